import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_CONFIG_PATH, resolveDataDir, type GlobalOptions } from './context.js';

interface ConfigBits {
  models?: { providers?: string[]; ort_module?: string | null };
  streams?: { hwaccel?: string }[];
}

/** The parts of the config the doctor judges against; a missing or unreadable file means defaults. */
function readConfig(opts: GlobalOptions): ConfigBits {
  const file = opts.config ?? process.env.VIGIL_CONFIG ?? DEFAULT_CONFIG_PATH;
  if (!existsSync(file)) return {};
  try {
    return (parseYaml(readFileSync(file, 'utf8')) as ConfigBits | null) ?? {};
  } catch {
    return {};
  }
}

/** `vigil doctor`: runs locally (no daemon needed) and says what this machine can run. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check Node, native modules, onnxruntime providers, ffmpeg decoders, GPUs and the data dir')
    .option('--json', 'print the whole report as JSON (for support tickets)')
    .action(async (o: { json?: boolean }) => {
      const g = program.opts<GlobalOptions>();
      const cfg = readConfig(g);
      // Probes load here: `vigil --help` must not pay for them.
      const { formatDoctor, runDoctor } = await import('../daemon/doctor/doctor.js');
      const report = await runDoctor({
        dataDir: resolveDataDir(g),
        providers: cfg.models?.providers,
        ortModule: cfg.models?.ort_module ?? null,
        hwaccels: (cfg.streams ?? []).map((s) => s.hwaccel ?? 'none').filter((h) => h !== 'none'),
      });
      process.stdout.write(`${o.json ? JSON.stringify(report, null, 2) : formatDoctor(report)}\n`);
      if (report.verdict === 'fail') process.exitCode = 1;
    });
}
