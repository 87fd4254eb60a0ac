import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { VigilError, isVigilError } from '../daemon/errors.js';
import type { InferenceEngine } from '../daemon/inference/engine.js';

/** What `plates eval` needs: like `models`, it runs the reader on this machine, not through the daemon. */
export interface PlatesCommandContext {
  dataDir(): string;
}

interface EvalOpts { models: string; ocr?: string; localizer?: string; formats?: string; mirror?: string; manifest?: string[]; json?: boolean; verbose?: boolean }

/**
 * Registers `vigil plates eval DIR`: the plate reader over a folder of photos with ground
 * truth. It runs locally (an exception to "the CLI talks HTTP only", like `vigil models
 * bench`): an integrator measures a candidate configuration on their camera's photos
 * without a daemon, without the frame sockets' size limits, and with per-photo timings
 * that do not include HTTP.
 */
export function registerPlatesCommands(program: Command, ctx: PlatesCommandContext): void {
  const plates = program.command('plates').description('licence-plate tools (run locally)');
  plates.command('eval <dir>')
    .description('read every photo of DIR against ground truth (.txt beside each photo: file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE; sub-folders are regions)')
    .option('--models <preset>', 'permissive (default) or cn', 'permissive')
    .option('--ocr <names>', 'OCR models in order, comma-separated (manifest names)')
    .option('--localizer <name>', 'plate localiser model (manifest name)')
    .option('--formats <names>', 'expected plate formats, comma-separated presets (default: all)')
    .option('--mirror <dir>', 'take model bytes from this directory (default: VIGIL_MODEL_MIRROR)')
    .option('--manifest <file...>', 'extra model manifest files (YAML/JSON)')
    .option('--json', 'print per-photo results and the summary as JSON')
    .option('--verbose', 'print every photo, not only the misreads')
    .action(async (dir: string, o: EvalOpts) => {
      let engine: InferenceEngine | null = null;
      try {
        if (o.models !== 'permissive' && o.models !== 'cn') throw new VigilError('VIGIL_ERR_CONFIG', `--models must be permissive or cn, not "${o.models}"`);
        // The reader, inference and models load here: `vigil --help` must not pay for them.
        const [{ InferenceEngine }, { buildPlateReader, CN_PLATE_MODELS, DEFAULT_PLATE_MODELS }, { evaluatePlates, formatSummary, loadPlateTruth, summarise }, { ModelCatalog }, { createRootLogger }] = await Promise.all([
          import('../daemon/inference/engine.js'), import('../daemon/analytics/plateRecognition/index.js'),
          import('../daemon/analytics/plateRecognition/evaluate.js'), import('../models/catalog.js'), import('../daemon/log.js'),
        ]);
        const truths = loadPlateTruth(resolve(dir));
        const mirror = o.mirror ?? process.env.VIGIL_MODEL_MIRROR;
        engine = new InferenceEngine({
          log: createRootLogger('warn', process.stderr), dataDir: ctx.dataDir(), providers: ['cpu'], ...(mirror ? { mirrorDir: resolve(mirror) } : {}),
          catalog: ModelCatalog.load({ dataDir: ctx.dataDir(), extraPaths: o.manifest }),
        });
        const preset = o.models === 'cn' ? CN_PLATE_MODELS : DEFAULT_PLATE_MODELS;
        const list = (s?: string): string[] | undefined => s?.split(',').map((x) => x.trim()).filter(Boolean);
        const reader = await buildPlateReader(engine, join(ctx.dataDir(), 'models'), {
          ...preset, ...(o.localizer ? { plateLocalizer: o.localizer } : {}), ...(o.ocr ? { ocr: list(o.ocr) } : {}),
        }, { ...(o.formats ? { formats: list(o.formats) } : {}) });
        const scores = await evaluatePlates(reader, truths, (s) => {
          if (o.json || !(o.verbose || !s.exact)) return;
          process.stdout.write(`${s.exact ? 'ok  ' : 'MISS'} ${s.region}/${s.file}: truth ${s.truth} read ${s.read || '-'}${s.found ? '' : ' (not found)'} ${Math.round(s.ms)} ms\n`);
        });
        const summary = summarise(scores);
        if (o.json) process.stdout.write(`${JSON.stringify({ summary, photos: scores }, null, 2)}\n`);
        else process.stdout.write(`${formatSummary(summary)}\n`);
      } catch (err) {
        const e = isVigilError(err) ? err : new VigilError('VIGIL_ERR_INTERNAL', (err as Error).message);
        process.stderr.write(`${e.line()}\n`);
        process.exitCode = e.code === 'VIGIL_ERR_CONFIG' ? 78 : 1;
      } finally {
        await engine?.stop();
      }
    });
}
