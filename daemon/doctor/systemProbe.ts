// What this machine offers Vigil: Node and glibc, the native modules, ffmpeg's hardware decoders,
// GStreamer, GPU devices and the data dir. Each probe is quick and never throws.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { glibcVersion, uwsInfo, type UwsInfo } from '../server/uws/loadUws.js';

const req = createRequire(import.meta.url);

/** Runs a tool; null when it is missing, fails or takes too long. */
export function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve(err ? null : `${stdout}${stderr}`);
    });
  });
}

export interface PlatformReport {
  node: string;
  abi: string;
  arch: string;
  platform: string;
  glibc: string | null;
  os: string | null;
  /** Board model (Jetson, Raspberry Pi) from the device tree. */
  board: string | null;
  /** L4T release line on Jetson (maps to the JetPack version). */
  l4t: string | null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').replace(/\0/g, '').trim();
  } catch {
    return null;
  }
}

export function platformReport(): PlatformReport {
  const osRelease = readText('/etc/os-release');
  return {
    node: process.versions.node,
    abi: process.versions.modules,
    arch: process.arch,
    platform: process.platform,
    glibc: glibcVersion(),
    os: /PRETTY_NAME="?([^"\n]+)"?/.exec(osRelease ?? '')?.[1] ?? null,
    board: readText('/proc/device-tree/model'),
    l4t: readText('/etc/nv_tegra_release')?.split('\n')[0] ?? null,
  };
}

export interface NativeModule {
  name: string;
  ok: boolean;
  version: string | null;
  detail?: string;
  error?: string;
}

function packageVersion(name: string): string | null {
  try {
    let dir = dirname(req.resolve(name));
    for (let i = 0; i < 3; i++, dir = dirname(dir)) {
      const p = `${dir}/package.json`;
      if (existsSync(p)) {
        const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name || name === 'uWebSockets.js') return pkg.version ?? null;
      }
    }
  } catch {
    // not installed
  }
  return null;
}

/** Loads each native module the daemon needs (not onnxruntime: ortProbe does that in a child). */
export function nativeModules(info: UwsInfo = uwsInfo): NativeModule[] {
  const out: NativeModule[] = [];
  try {
    const Database = req('better-sqlite3') as new (f: string) => { prepare(s: string): { get(): { v: string } }; close(): void };
    const db = new Database(':memory:');
    const v = db.prepare('select sqlite_version() as v').get().v;
    db.close();
    out.push({ name: 'better-sqlite3', ok: true, version: packageVersion('better-sqlite3'), detail: `SQLite ${v}` });
  } catch (err) {
    out.push({ name: 'better-sqlite3', ok: false, version: packageVersion('better-sqlite3'), error: (err as Error).message.split('\n')[0] });
  }
  try {
    const sharp = req('sharp') as { versions: Record<string, string> };
    out.push({ name: 'sharp', ok: true, version: packageVersion('sharp'), detail: `libvips ${sharp.versions.vips}` });
  } catch (err) {
    out.push({ name: 'sharp', ok: false, version: packageVersion('sharp'), error: (err as Error).message.split('\n')[0] });
  }
  out.push({
    name: 'uWebSockets.js',
    ok: info.kind === 'native',
    version: info.version,
    detail: info.kind === 'native' ? `native, ${info.package}` : `JavaScript fallback: ${info.reason}`,
    ...(info.kind === 'native' ? {} : { error: info.tried.map((t) => `${t.package}: ${t.error}`).join('; ') }),
  });
  return out;
}

export interface DecodePreset {
  preset: 'cuda' | 'jetson' | 'vaapi' | 'v4l2m2m';
  ok: boolean;
  /** What is missing (empty when ok). */
  missing: string[];
  hint?: string;
}

export interface FfmpegReport {
  found: boolean;
  version: string | null;
  hwaccels: string[];
  /** Hardware decoders of interest that this build has. */
  decoders: string[];
  presets: DecodePreset[];
}

const HW_DECODERS = ['h264_cuvid', 'hevc_cuvid', 'h264_nvmpi', 'hevc_nvmpi', 'h264_v4l2m2m', 'hevc_v4l2m2m', 'h264_qsv', 'hevc_qsv'];

export async function ffmpegReport(devices: GpuReport, ffmpeg = 'ffmpeg'): Promise<FfmpegReport> {
  const [version, hw, dec] = await Promise.all([
    run(ffmpeg, ['-hide_banner', '-version']),
    run(ffmpeg, ['-hide_banner', '-hwaccels']),
    run(ffmpeg, ['-hide_banner', '-decoders']),
  ]);
  if (version === null) {
    return { found: false, version: null, hwaccels: [], decoders: [], presets: [] };
  }
  const hwaccels = (hw ?? '').split('\n').map((l) => l.trim()).filter((l) => l && !l.includes(':'));
  const decoders = HW_DECODERS.filter((d) => new RegExp(`\\s${d}\\s`).test(dec ?? ''));
  const has = (d: string) => decoders.includes(d);
  const presets: DecodePreset[] = [];
  const cudaMissing = [...(hwaccels.includes('cuda') ? [] : ['ffmpeg hwaccel cuda']), ...(devices.nvidia.length ? [] : ['/dev/nvidia0'])];
  presets.push({ preset: 'cuda', ok: cudaMissing.length === 0, missing: cudaMissing, hint: cudaMissing.length ? 'NVDEC (x64 NVIDIA): the NVIDIA driver plus an ffmpeg built with --enable-cuvid --enable-nvdec (Debian/Ubuntu ffmpeg has it; it needs libnvcuvid from the driver at run time)' : undefined });
  const jetsonMissing = [...(has('h264_nvmpi') ? [] : ['ffmpeg decoder h264_nvmpi']), ...(devices.tegra.length ? [] : ['/dev/nvhost-* (Jetson)'])];
  presets.push({ preset: 'jetson', ok: jetsonMissing.length === 0, missing: jetsonMissing, hint: jetsonMissing.length ? 'Jetson: an ffmpeg built with jetson-ffmpeg (h264_nvmpi), see the Jetson section of the README' : undefined });
  const vaapiMissing = [...(hwaccels.includes('vaapi') ? [] : ['ffmpeg hwaccel vaapi']), ...(devices.dri.some((d) => d.startsWith('renderD')) ? [] : ['/dev/dri/renderD128'])];
  presets.push({ preset: 'vaapi', ok: vaapiMissing.length === 0, missing: vaapiMissing, hint: vaapiMissing.length ? 'VAAPI (Intel/AMD): a GPU with a /dev/dri render node and its driver (intel-media-va-driver or mesa-va-drivers); the user needs the render/video group' : undefined });
  const v4l2Missing = has('h264_v4l2m2m') ? [] : ['ffmpeg decoder h264_v4l2m2m'];
  presets.push({ preset: 'v4l2m2m', ok: v4l2Missing.length === 0 && devices.video.length > 0, missing: devices.video.length ? v4l2Missing : [...v4l2Missing, '/dev/video* (a V4L2 decoder)'], hint: 'Raspberry Pi-class boards: inputArgs [-c:v, h264_v4l2m2m] where the kernel has a stateful V4L2 decoder' });
  return { found: true, version: /ffmpeg version (\S+)/.exec(version)?.[1] ?? null, hwaccels, decoders, presets };
}

export interface GstReport {
  found: boolean;
  version: string | null;
  /** Hardware decoder elements present. */
  decoders: string[];
}

const GST_DECODERS = ['nvv4l2decoder', 'nvh264dec', 'nvh265dec', 'vah264dec', 'vaapih264dec', 'v4l2h264dec'];

export async function gstreamerReport(): Promise<GstReport> {
  const version = await run('gst-inspect-1.0', ['--version']);
  if (version === null) return { found: false, version: null, decoders: [] };
  const all = (await run('gst-inspect-1.0', [], 20_000)) ?? '';
  return {
    found: true,
    version: /GStreamer\s+(\S+)/.exec(version)?.[1] ?? null,
    decoders: GST_DECODERS.filter((e) => new RegExp(`:\\s+${e}:`).test(all)),
  };
}

export interface GpuReport {
  nvidia: string[];
  dri: string[];
  tegra: string[];
  video: string[];
  /** nvidia-smi's GPU lines when it is installed. */
  nvidiaSmi: string[] | null;
}

export async function gpuReport(): Promise<GpuReport> {
  const list = (dir: string, re: RegExp) => {
    try {
      return readdirSync(dir).filter((n) => re.test(n)).sort();
    } catch {
      return [];
    }
  };
  const smi = await run('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader']);
  return {
    nvidia: list('/dev', /^nvidia\d+$/),
    dri: list('/dev/dri', /^(card|renderD)\d+$/),
    tegra: list('/dev', /^nvhost-(ctrl|nvdec|gpu)/),
    video: list('/dev', /^video\d+$/),
    nvidiaSmi: smi === null ? null : smi.split('\n').map((l) => l.trim()).filter(Boolean),
  };
}

export interface DataDirReport {
  path: string;
  exists: boolean;
  writable: boolean;
  freeBytes: number | null;
  owner: number | null;
  error?: string;
}

export function dataDirReport(path: string): DataDirReport {
  // A dir that does not exist yet is judged by the parent it would be created in.
  let probe = path;
  while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
  const exists = probe === path;
  let writable = false;
  let freeBytes: number | null = null;
  let owner: number | null = null;
  let error: string | undefined;
  try {
    if (!statSync(probe).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(probe, constants.W_OK);
    writable = true;
  } catch (err) {
    error = `${probe} is not writable by uid ${process.getuid?.() ?? '?'}: ${(err as NodeJS.ErrnoException).code}`;
  }
  try {
    const s = statfsSync(probe);
    freeBytes = s.bavail * s.bsize;
    owner = statSync(probe).uid;
  } catch {
    // statfs missing on this platform
  }
  return { path, exists, writable, freeBytes, owner, ...(error ? { error } : {}) };
}
