// `npm run bench -- NAME [NAME...] [--load] [--full]` runs bench/NAME.ts (each exports `run()`); no name lists them.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.test.ts') && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();
// Flags (--load: a competing busy core; --full: the long variants) are read by the benches themselves.
const names = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (names.length === 0) {
  console.log(`usage: npm run bench -- NAME\navailable: ${available.join(', ')}`);
  process.exit(0);
}
// Arguments after a benchmark's name that are not themselves benchmark names are its own (e.g. a folder).
for (let i = 0; i < names.length; i++) {
  const name = names[i]!;
  const args: string[] = [];
  while (i + 1 < names.length && !available.includes(names[i + 1]!)) args.push(names[++i]!);
  if (!available.includes(name)) {
    console.error(`Unknown benchmark "${name}"; available: ${available.join(', ')}`);
    process.exit(2);
  }
  const mod = (await import(`./${name}.ts`)) as { run: (args: string[]) => Promise<void> };
  console.log(`\n== bench ${name}`);
  await mod.run(args);
}
