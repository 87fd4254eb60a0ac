import type { Command } from 'commander';
import { resolve } from 'node:path';
import { VigilError, isVigilError } from '../daemon/errors.js';
import type { ModelCatalog } from '../models/catalog.js';

// Catalog, fetcher and inference load inside each action: `vigil --help` must not pay for them.
const lazy = {
  catalog: () => import('../models/catalog.js'),
  fetcher: () => import('../models/fetcher.js'),
  manifest: () => import('../models/manifest.js'),
};

/** What the models commands need from the CLI: they run locally, not through the daemon. */
export interface ModelsCommandContext {
  dataDir(): string;
}

interface CommonOpts { mirror?: string; manifest?: string[] }

async function catalogOf(ctx: ModelsCommandContext, o: CommonOpts): Promise<ModelCatalog> {
  const { ModelCatalog } = await lazy.catalog();
  return ModelCatalog.load({ dataDir: ctx.dataDir(), extraPaths: o.manifest });
}

function mirrorOf(o: CommonOpts): string | undefined {
  const m = o.mirror ?? process.env.VIGIL_MODEL_MIRROR;
  return m ? resolve(m) : undefined;
}

function fail(err: unknown): never {
  const e = isVigilError(err) ? err : new VigilError('VIGIL_ERR_INTERNAL', (err as Error).message);
  process.stderr.write(`${e.line()}\n`);
  process.exit(1);
}

/** Registers `vigil models ls | fetch [NAME...] | verify | bench NAME`. */
export function registerModelsCommands(program: Command, ctx: ModelsCommandContext): void {
  const models = program.command('models').description('list, fetch, verify and benchmark the ONNX models (runs locally)');
  const common = (c: Command): Command => c
    .option('--mirror <dir>', 'take model bytes from this directory (default: VIGIL_MODEL_MIRROR)')
    .option('--manifest <file...>', 'extra model manifest files (YAML/JSON)');

  common(models.command('ls').description('every model: role, family, input, licence, default, cache state'))
    .option('--json', 'print JSON')
    .action(async (o: CommonOpts & { json?: boolean }) => {
      try {
        const cat = await catalogOf(ctx, o);
        const [{ DEFAULT_ROLES }, { checkFile, itemsOf }] = await Promise.all([lazy.manifest(), lazy.fetcher()]);
        const defaults = new Map<string, string[]>();
        for (const [role, name] of Object.entries(DEFAULT_ROLES)) if (name) defaults.set(name, [...(defaults.get(name) ?? []), role]);
        const rows: Record<string, string | boolean>[] = [];
        for (const m of cat.all()) {
          const states = await Promise.all(itemsOf(m).map((i) => checkFile(ctx.dataDir(), i)));
          const state = states.every((s) => s === 'ok') ? 'cached' : states.includes('bad-hash') ? 'CORRUPT' : 'missing';
          rows.push({ name: m.name, role: m.role, family: m.family, input: `${m.input.width}x${m.input.height} ${m.input.layout} ${m.input.color} ${m.input.dtype}`, licence: m.licence, permissive: m.permissive, default: (defaults.get(m.name) ?? []).join(','), state });
        }
        if (o.json) { process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`); return; }
        const cols = ['name', 'role', 'family', 'input', 'state', 'terms', 'default', 'licence'] as const;
        const width = (c: (typeof cols)[number]): number => Math.max(c.length, ...rows.map((r) => String(r[c] ?? (r.permissive ? 'permissive' : 'opt-in')).length));
        const line = (r: Record<string, unknown>): string => cols.map((c) => String(r[c]).padEnd(width(c))).join('  ').trimEnd();
        process.stdout.write(`${line(Object.fromEntries(cols.map((c) => [c, c.toUpperCase()])))}\n`);
        for (const r of rows) process.stdout.write(`${line({ ...r, terms: r.permissive ? 'permissive' : 'opt-in' })}\n`);
      } catch (err) { fail(err); }
    });

  common(models.command('fetch [names...]').description('download and verify models (default: every role default)'))
    .option('--all', 'every model in the manifest, opt-in ones included')
    .action(async (names: string[], o: CommonOpts & { all?: boolean }) => {
      try {
        const cat = await catalogOf(ctx, o);
        const [{ DEFAULT_ROLES }, { ensureModel }] = await Promise.all([lazy.manifest(), lazy.fetcher()]);
        const wanted = names.length ? names : o.all ? cat.all().map((m) => m.name) : [...new Set(Object.values(DEFAULT_ROLES).filter((n): n is string => !!n))];
        let failed = 0;
        for (const [i, n] of wanted.entries()) {
          // One line per model before the work starts, so a long fetch never looks like a hang.
          process.stderr.write(`[${i + 1}/${wanted.length}] ${n}: checking the cache, fetching if needed...\n`);
          try {
            const spec = cat.get(n);
            if (!spec.permissive) process.stderr.write(`note: ${n} is not permissively licensed: ${spec.licence}\n`);
            const p = await ensureModel(spec, { dataDir: ctx.dataDir(), mirrorDir: mirrorOf(o), progress: true });
            process.stdout.write(`${n}: ok ${p}\n`);
          } catch (err) {
            failed++;
            process.stderr.write(`${n}: ${isVigilError(err) ? err.line() : (err as Error).message}\n`);
          }
        }
        if (failed) process.exit(1);
      } catch (err) { fail(err); }
    });

  common(models.command('verify').description('check every cached model file against its pinned sha256'))
    .action(async (o: CommonOpts) => {
      try {
        let bad = 0;
        const { checkFile, itemsOf } = await lazy.fetcher();
        for (const m of (await catalogOf(ctx, o)).all()) {
          for (const item of itemsOf(m)) {
            const s = await checkFile(ctx.dataDir(), item);
            if (s === 'missing') continue;
            if (s === 'bad-hash') bad++;
            process.stdout.write(`${item.file}: ${s === 'ok' ? 'ok' : 'BAD HASH (run `vigil models fetch ' + m.name + '` to fetch it again)'}\n`);
          }
        }
        if (bad) process.exit(1);
      } catch (err) { fail(err); }
    });

  common(models.command('bench <name>').description('ORT-only vs full pre+infer+decode latency of one model on this machine'))
    .option('--frames <n>', 'runs per measurement', '100')
    .option('--image <path>', 'image to run on (default: a synthetic 640x360 frame)')
    .option('--threads <n>', 'ORT intra-op threads')
    .option('--providers <list>', 'execution providers, comma separated', 'cpu')
    .action(async (name: string, o: CommonOpts & { frames: string; image?: string; threads?: string; providers: string }) => {
      try {
        const [{ InferenceEngine }, { benchModel, syntheticFrame }, { readImageFile }, { createRootLogger }] = await Promise.all([
          import('../daemon/inference/engine.js'), import('../daemon/inference/benchmark.js'), import('../daemon/vision/codec.js'), import('../daemon/log.js'),
        ]);
        const log = createRootLogger('warn', process.stderr);
        const frame = o.image ? await readImageFile(o.image) : syntheticFrame();
        // The bench prints only at the end: say up front what runs, so a slow box does not look hung.
        process.stderr.write(`benchmarking ${name} on ${o.providers}: ${Math.max(1, Number(o.frames) || 100)} runs per measurement, 3 measurements...\n`);
        const intra = o.threads ? Math.max(1, Number(o.threads)) : undefined;
        const engine = new InferenceEngine({ log, dataDir: ctx.dataDir(), mirrorDir: mirrorOf(o), providers: o.providers.split(','), catalog: await catalogOf(ctx, o), ...(intra ? { threads: { intraOp: intra, interOp: 1 } } : {}) });
        const r = await benchModel(name, [frame], { count: Math.max(1, Number(o.frames) || 100), dataDir: ctx.dataDir(), log, engine, ...(intra ? { threads: { intraOp: intra, interOp: 1 } } : {}) });
        await engine.stop();
        const f = (s: { mean: number; p50: number; p99: number }): string => `mean ${s.mean} ms  p50 ${s.p50} ms  p99 ${s.p99} ms`;
        process.stdout.write(`${r.model} on ${r.provider}, ${r.frames} runs, input ${frame.width}x${frame.height}\n`);
        process.stdout.write(`  ORT only:            ${f(r.ortOnly)}\n`);
        process.stdout.write(`  pre-processing:      ${f(r.pre)}\n`);
        process.stdout.write(`  full (${r.decoded ? 'pre+infer+decode' : 'pre+infer'}): ${f(r.full)}\n`);
        process.stdout.write(`  overhead ratio:      ${r.overhead}\n`);
      } catch (err) { fail(err); }
    });
}
