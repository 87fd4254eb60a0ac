import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { VigilError } from '../daemon/errors.js';
import type { ApiClient } from './client.js';

interface Person { person_id: string; name: string; relationship: string; notes: string; photo_count?: number; photos?: { photo_id: string; source: string; quality: Record<string, number> }[] }
interface Unknown { unknown_id: string; count: number; first_seen: number; last_seen: number; best_capture_id: string; streams: string[] }

async function readPhotos(paths: string[]): Promise<string[]> {
  return Promise.all(paths.map(async (p) => {
    try {
      return (await readFile(p)).toString('base64');
    } catch (err) {
      throw new VigilError('VIGIL_ERR_INVALID_IMAGE', `Cannot read photo ${p}: ${(err as Error).message}`);
    }
  }));
}

function printPerson(p: Person): void {
  console.log(`${p.person_id}  ${p.name}${p.relationship ? ` (${p.relationship})` : ''}`);
  if (p.notes) console.log(`  notes: ${p.notes}`);
  for (const ph of p.photos ?? []) {
    const q = ph.quality;
    const size = q.size !== undefined ? ` size ${Math.round(q.size)}px` : '';
    const blur = q.blur !== undefined ? ` sharpness ${Math.round(q.blur)}` : '';
    console.log(`  photo ${ph.photo_id}  ${ph.source}${size}${blur}`);
  }
}

const out = (json: boolean, data: unknown, human: () => void): void => (json ? console.log(JSON.stringify(data, null, 2)) : human());

/** `vigil faces ...`: the face gallery over the daemon's REST API. */
export function registerFacesCommands(program: Command, client: () => ApiClient): void {
  const faces = program.command('faces').description('manage the face recognition gallery');

  faces.command('enroll').description('enrol a person from one or more photos (each must show exactly one face)')
    .requiredOption('--name <name>', 'person name').option('--relationship <r>', 'e.g. family, staff', '').option('--notes <text>', 'free text', '')
    .option('--json', 'print JSON').argument('<photos...>', 'photo files (JPEG/PNG/WebP)')
    .action(async (photos: string[], o: { name: string; relationship: string; notes: string; json?: boolean }) => {
      const p = await client().post<Person>('/api/faces/persons', { name: o.name, relationship: o.relationship, notes: o.notes, photos: await readPhotos(photos) });
      out(!!o.json, p, () => { console.log(`Enrolled ${p.name} with ${p.photos?.length ?? 0} photo(s).`); printPerson(p); });
    });

  faces.command('ls').description('list enrolled persons').option('--json', 'print JSON').action(async (o: { json?: boolean }) => {
    const { persons } = await client().get<{ persons: Person[] }>('/api/faces/persons');
    out(!!o.json, persons, () => {
      if (persons.length === 0) console.log('No one is enrolled. Add someone with `vigil faces enroll --name NAME PHOTO`.');
      for (const p of persons) console.log(`${p.person_id}  ${p.name.padEnd(24)} ${(p.relationship || '-').padEnd(12)} ${p.photo_count ?? 0} photo(s)`);
    });
  });

  faces.command('show').description('show a person and their photos').argument('<id>', 'person_id').option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const p = await client().get<Person>(`/api/faces/persons/${encodeURIComponent(id)}`);
      out(!!o.json, p, () => printPerson(p));
    });

  faces.command('rm').description('remove a person, their photos and embeddings').argument('<id>', 'person_id')
    .action(async (id: string) => {
      await client().delete(`/api/faces/persons/${encodeURIComponent(id)}`);
      console.log(`Removed ${id}.`);
    });

  faces.command('add-photo').description('add a photo to an enrolled person').argument('<id>', 'person_id').argument('<photo>', 'photo file')
    .option('--json', 'print JSON')
    .action(async (id: string, photo: string, o: { json?: boolean }) => {
      const [b64] = await readPhotos([photo]);
      const p = await client().post<Person>(`/api/faces/persons/${encodeURIComponent(id)}/photos`, { photo: b64 });
      out(!!o.json, p, () => { console.log(`Added a photo to ${p.name}.`); printPerson(p); });
    });

  faces.command('reject').description('say that the face of an event is NOT this person (stored as a negative)')
    .argument('<event>', 'event_id (or its pipeline_data.variation)').requiredOption('--not <person_id>', 'the person it is not')
    .action(async (event: string, o: { not: string }) => {
      await client().post('/api/faces/reject', { event_id: event, person_id: o.not });
      console.log(`Noted: ${event} is not ${o.not}. Faces closer to it than to that person's photos will not be matched to them.`);
    });

  faces.command('confirm').description('say that the face of an event IS this person (added as a photo)')
    .argument('<event>', 'event_id (or its pipeline_data.variation)').argument('<person_id>', 'the person it is')
    .action(async (event: string, personId: string) => {
      const p = await client().post<Person>('/api/faces/confirm', { event_id: event, person_id: personId });
      console.log(`Added the face of ${event} to ${p.name} (${p.photos?.length ?? 0} photos).`);
    });

  const unknowns = faces.command('unknowns').description('recurring strangers, grouped by similarity').option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { unknowns: list } = await client().get<{ unknowns: Unknown[] }>('/api/faces/unknowns');
      out(!!o.json, list, () => {
        if (list.length === 0) console.log('No unknown faces recorded.');
        for (const u of list) console.log(`${u.unknown_id}  seen ${u.count}x  last ${new Date(u.last_seen).toISOString()}  streams ${u.streams.join(',')}  best capture ${u.best_capture_id}`);
      });
    });
  unknowns.command('enroll').description('enrol a recurring stranger from their best captures').argument('<unknown_id>', 'cluster id')
    .requiredOption('--name <name>', 'person name').option('--relationship <r>', 'relationship', '')
    .action(async (id: string, o: { name: string; relationship: string }) => {
      const p = await client().post<Person>(`/api/faces/unknowns/${encodeURIComponent(id)}/enroll`, { name: o.name, relationship: o.relationship });
      console.log(`Enrolled ${p.name} from ${p.photos?.length ?? 0} capture(s).`);
      printPerson(p);
    });
}
