import { isInferenceDropped } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Frame } from '../../streams/frame.js';
import type { Box, Point, RgbImage } from '../../vision/image.js';
import type { Observation, StreamAnalytic } from '../types.js';
import { faceCrop, type FaceRecognizer } from './faceRecognizer.js';
import { FaceTracker, type FaceTrack } from './faceTracker.js';
import { TrackVote, UNKNOWN } from './vote.js';

/** The best-quality sighting of a track: what its event shows and stores. */
interface BestFace {
  quality: number;
  detScore: number;
  crop: { image: RgbImage; box: Box; landmarks: Point[] };
  embedding: Float32Array;
  timestamp: number;
}

interface TrackState {
  vote: TrackVote;
  best?: BestFace;
  /** Label of the last published decision (undefined: none yet). */
  published?: string;
  updates: number;
}

const MAX_UPDATES = 2;

/**
 * NFV4-FR on one stream: faces are tracked across frames, each track votes on its
 * identity (weighted by face quality), and publishes one event when the decision is
 * made (after `decisionFrames` voting frames, or when the track ends), plus an update
 * if the decision later changes.
 */
export function createFaceRecognitionAnalytic(rec: FaceRecognizer, opts: { streamId: string; log: Logger }): StreamAnalytic {
  const cfg = rec.config;
  const log = opts.log.child({ component: 'face-recognition', stream: opts.streamId });
  const tracker = new FaceTracker<TrackState>({ minIou: 0.3, maxMissed: cfg.maxMissed }, () => ({ vote: new TrackVote(), updates: 0 }));

  async function publish(tr: FaceTrack<TrackState>, streamId: string): Promise<Observation | null> {
    const st = tr.state;
    if (!st.best || st.vote.frames === 0) return null;
    const d = st.vote.decision();
    if (st.published === d.label) return null;
    const isUpdate = st.published !== undefined;
    if (isUpdate && (!cfg.updates || st.updates >= MAX_UPDATES)) return null;
    const known = d.label !== UNKNOWN;
    const person = known ? rec.gallery.getPerson(d.label) : undefined;
    if (known && !person) return null; // removed meanwhile
    const b = st.best;
    const cluster = known ? undefined : rec.clusters.assign(b.embedding);
    const variation = await rec.recordCapture(
      { stream_id: streamId, track_id: tr.id, timestamp: b.timestamp, decision: known ? 'KNOWN' : 'UNKNOWN', person_id: person?.person_id ?? null,
        similarity: d.similarity, unknown_id: cluster?.unknownId ?? null, quality: b.quality },
      b.crop.image, b.crop.box, b.crop.landmarks, b.embedding,
    );
    if (isUpdate) st.updates++;
    st.published = d.label;
    const data: Record<string, unknown> = {
      confidence_detection: round(b.detScore),
      'face-id': tr.id,
      similarity: round(d.similarity),
      status: known ? 'enrolled' : 'not_enrolled',
      variation,
    };
    if (person) Object.assign(data, { person_id: person.person_id, name: person.name, relationship: person.relationship });
    if (cluster) data.unknown_id = cluster.unknownId;
    if (isUpdate) data.update = true;
    return {
      analyticId: 'NFV4-FR', streamId, timestamp: b.timestamp,
      crop: { image: b.crop.image, box: b.crop.box },
      primaryText: known ? 'KNOWN' : 'UNKNOWN', secondaryText: '', data,
    };
  }

  return {
    name: 'face-recognition',
    async process(frame: Frame): Promise<Observation[]> {
      const out: Observation[] = [];
      try {
        const faces = await rec.analyze(frame, { stream: frame.streamId });
        const { assigned, ended } = tracker.update(faces.map((f) => f.box));
        faces.forEach((f, i) => {
          const st = assigned[i]!.state;
          if (!f.embedding) return; // failed the gates: tracked, but no vote
          st.vote.add(rec.match(f.embedding), f.quality.score);
          if (!st.best || f.quality.score > st.best.quality) {
            st.best = { quality: f.quality.score, detScore: f.score, crop: faceCrop(frame, f.box, f.landmarks), embedding: f.embedding, timestamp: frame.timestamp };
          }
        });
        for (const tr of assigned) {
          if (tr.state.vote.frames >= cfg.decisionFrames) {
            const o = await publish(tr, frame.streamId);
            if (o) out.push(o);
          }
        }
        for (const tr of ended) {
          // A short appearance still gets its one event when it ends.
          if (tr.state.published === undefined) {
            const o = await publish(tr, frame.streamId);
            if (o) out.push(o);
          }
        }
      } catch (err) {
        // A drop can only come from analyze(), before any track changed and with `out` still
        // empty: the pipeline counts the frame as dropped and loses nothing.
        if (isInferenceDropped(err)) throw err;
        log.warn({ err }, 'face recognition failed on a frame');
      }
      return out;
    },
    close(): void {
      tracker.drain();
    },
  };
}

const round = (v: number): number => Math.round(v * 1e4) / 1e4;

