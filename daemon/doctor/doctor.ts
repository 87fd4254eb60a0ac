// `vigil doctor`: what this machine can run, and what to do about what it cannot.
// Loads no part of the daemon beyond the native modules it checks.
import { probeOrt, type OrtReport } from './ortProbe.js';
import {
  dataDirReport, ffmpegReport, gpuReport, gstreamerReport, nativeModules, platformReport,
  type DataDirReport, type FfmpegReport, type GpuReport, type GstReport, type NativeModule, type PlatformReport,
} from './systemProbe.js';

export interface DoctorOptions {
  dataDir: string;
  /** The configured provider order (all of cpu, cuda, tensorrt, webgpu are probed regardless). */
  providers?: string[];
  ortModule?: string | null;
  /** Decode presets the config uses (streams' hwaccel); a missing one is a problem, not a note. */
  hwaccels?: string[];
  ffmpeg?: string;
}

export interface Finding {
  level: 'ok' | 'warn' | 'fail';
  what: string;
  hint?: string;
}

export interface DoctorReport {
  verdict: 'ok' | 'warn' | 'fail';
  platform: PlatformReport;
  native: NativeModule[];
  ort: OrtReport;
  ffmpeg: FfmpegReport;
  gstreamer: GstReport;
  gpu: GpuReport;
  dataDir: DataDirReport;
  findings: Finding[];
  tookMs: number;
}

const NODE_LTS = [22, 24];
const MIN_FREE = 1024 ** 3;

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const t0 = performance.now();
  const providers = opts.providers ?? ['cpu'];
  const probed = [...new Set([...providers, 'cuda', 'tensorrt', ...(process.arch === 'x64' ? ['webgpu'] : [])])];
  const gpu = await gpuReport();
  const [ort, ffmpeg, gstreamer] = await Promise.all([
    probeOrt({ providers: probed, ortModule: opts.ortModule }),
    ffmpegReport(gpu, opts.ffmpeg),
    gstreamerReport(),
  ]);
  const report: Omit<DoctorReport, 'verdict' | 'findings' | 'tookMs'> = {
    platform: platformReport(),
    native: nativeModules(),
    ort,
    ffmpeg,
    gstreamer,
    gpu,
    dataDir: dataDirReport(opts.dataDir),
  };
  const findings = judge(report, providers, opts.hwaccels ?? []);
  const verdict = findings.some((f) => f.level === 'fail') ? 'fail' : findings.some((f) => f.level === 'warn') ? 'warn' : 'ok';
  return { verdict, ...report, findings, tookMs: Math.round(performance.now() - t0) };
}

/** Turns the facts into findings, each problem with the hint to fix it. */
export function judge(r: Omit<DoctorReport, 'verdict' | 'findings' | 'tookMs'>, providers: string[], hwaccels: string[]): Finding[] {
  const out: Finding[] = [];
  const major = Number(r.platform.node.split('.')[0]);
  if (major < 20) out.push({ level: 'fail', what: `Node ${r.platform.node} is too old`, hint: 'install Node 24 (LTS)' });
  else if (major === 20) out.push({ level: 'warn', what: `Node ${r.platform.node}: Node 20 reached end of life in April 2026 (Vigil still runs on it)`, hint: 'move to Node 24, then npm rebuild better-sqlite3 (needs python3 make g++) or rerun scripts/setup.sh' });
  else if (!NODE_LTS.includes(major)) out.push({ level: 'warn', what: `Node ${r.platform.node} is not an LTS release; Vigil is tested on 20, 22 and 24`, hint: 'install Node 24' });
  else out.push({ level: 'ok', what: `Node ${r.platform.node} (ABI ${r.platform.abi}) on ${r.platform.platform}-${r.platform.arch}, glibc ${r.platform.glibc ?? 'n/a'}` });

  for (const m of r.native) {
    if (m.name === 'uWebSockets.js') {
      if (m.ok) out.push({ level: 'ok', what: `sockets: native uWebSockets.js ${m.version ?? ''}` });
      else out.push({ level: 'warn', what: `sockets: ${m.detail}`, hint: 'native uWS needs Node 20 (any glibc >= 2.27) or Node 22/24 with glibc >= 2.38 (Ubuntu 24.04, Debian 13); the fallback works but costs more CPU per subscriber' });
    } else if (m.ok) out.push({ level: 'ok', what: `${m.name} ${m.version ?? ''} loads${m.detail ? ` (${m.detail})` : ''}` });
    else out.push({ level: 'fail', what: `${m.name} does not load: ${m.error}`, hint: m.name === 'better-sqlite3' ? 'npm rebuild better-sqlite3 under this Node (needs python3 make g++), or rerun scripts/setup.sh' : 'rerun npm ci (or scripts/setup.sh)' });
  }

  if (r.ort.error) out.push({ level: 'fail', what: `onnxruntime (${r.ort.module}) does not load: ${r.ort.error}`, hint: 'rerun npm ci, or fix models.ort_module' });
  for (const p of r.ort.providers) {
    const wanted = providers.includes(p.provider);
    if (p.ok) out.push({ level: 'ok', what: `onnxruntime ${r.ort.version ?? ''} provider ${p.provider} starts a session (${p.ms} ms)` });
    else if (p.provider === 'cpu') out.push({ level: 'fail', what: `onnxruntime cannot start a CPU session: ${p.error}`, hint: 'rerun npm ci' });
    else out.push({ level: wanted ? 'warn' : 'ok', what: `provider ${p.provider} not available${wanted ? ' (configured: the next provider in models.providers is used)' : ''}: ${p.error}`, hint: p.hint });
  }

  if (!r.ffmpeg.found) out.push({ level: 'fail', what: 'ffmpeg not found on PATH', hint: 'apt-get install ffmpeg' });
  else {
    out.push({ level: 'ok', what: `ffmpeg ${r.ffmpeg.version}; hwaccels: ${r.ffmpeg.hwaccels.join(', ') || 'none'}; hardware decoders: ${r.ffmpeg.decoders.join(', ') || 'none'}` });
    for (const p of r.ffmpeg.presets) {
      const wanted = hwaccels.includes(p.preset);
      if (p.ok) out.push({ level: 'ok', what: `decode preset ${p.preset} usable` });
      else out.push({ level: wanted ? 'fail' : 'ok', what: `decode preset ${p.preset} not usable here${wanted ? ' but a stream uses it' : ''}: missing ${p.missing.join(', ')}`, hint: p.hint });
    }
  }
  if (r.gstreamer.found) out.push({ level: 'ok', what: `GStreamer ${r.gstreamer.version}; hardware decoders: ${r.gstreamer.decoders.join(', ') || 'none'}` });

  const devs = [...r.gpu.nvidia.map((d) => `/dev/${d}`), ...r.gpu.dri.map((d) => `/dev/dri/${d}`), ...r.gpu.tegra.map((d) => `/dev/${d}`)];
  out.push({ level: 'ok', what: devs.length ? `GPU devices: ${devs.join(', ')}${r.gpu.nvidiaSmi ? `; nvidia-smi: ${r.gpu.nvidiaSmi.join(' | ')}` : ''}` : 'no GPU devices (/dev/nvidia*, /dev/dri, /dev/nvhost-*): CPU only' });

  const d = r.dataDir;
  if (!d.writable) out.push({ level: 'fail', what: `data dir ${d.path}: ${d.error}`, hint: `chown -R vigil:vigil ${d.path} (or set data_dir / VIGIL_DATA_DIR)` });
  else if (d.freeBytes !== null && d.freeBytes < MIN_FREE) out.push({ level: 'warn', what: `data dir ${d.path}: only ${(d.freeBytes / 1024 ** 2).toFixed(0)} MiB free`, hint: 'free space or lower retention.max_bytes' });
  else out.push({ level: 'ok', what: `data dir ${d.path}${d.exists ? '' : ' (will be created)'}: writable, ${d.freeBytes === null ? '?' : (d.freeBytes / 1024 ** 3).toFixed(1)} GiB free` });
  return out;
}

/** The report for people: one line per finding, hints indented, the verdict last. */
export function formatDoctor(r: DoctorReport): string {
  const mark = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
  const lines = r.findings.flatMap((f) => [`${mark[f.level]} ${f.what}`, ...(f.hint && f.level !== 'ok' ? [`     -> ${f.hint}`] : [])]);
  const notes = r.findings.filter((f) => f.level === 'ok' && f.hint);
  if (notes.length) lines.push('', 'To enable what is missing:', ...notes.map((f) => `  ${f.what.split(':')[0]}: ${f.hint}`));
  lines.push('', `verdict: ${r.verdict.toUpperCase()} (${r.tookMs} ms)`);
  return lines.join('\n');
}

/** The short form for the dashboard and /api/status: verdict and the problems only. */
export function doctorSummary(r: DoctorReport): { verdict: DoctorReport['verdict']; problems: Finding[]; sockets: string; providers: string[] } {
  return {
    verdict: r.verdict,
    problems: r.findings.filter((f) => f.level !== 'ok'),
    sockets: r.native.find((m) => m.name === 'uWebSockets.js')?.detail ?? 'unknown',
    providers: r.ort.providers.filter((p) => p.ok).map((p) => p.provider),
  };
}
