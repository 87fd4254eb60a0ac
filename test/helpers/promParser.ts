// A strict parser of the Prometheus text exposition format (0.0.4), so tests read
// /metrics the way a Prometheus server would and fail on anything it would reject.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** One sample line: `name{labels} value`. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A metric family: its `# HELP`, `# TYPE` and samples. */
export interface PromFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses exposition text; throws with the line number on the first violation. */
export function parsePrometheus(text: string): Map<string, PromFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, PromFamily>();
  const seen = new Set<string>();
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${line.slice(0, 120)}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME.test(name!)) throw new Error(`bad metric name in ${where}`);
      const fam = families.get(name!) ?? { name: name!, help: '', type: 'untyped' as MetricType, samples: [] };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest as MetricType)) throw new Error(`unknown type in ${where}`);
        if (families.get(name!)?.samples.length) throw new Error(`TYPE after samples in ${where}`);
        if ((fam as PromFamily & { typed?: boolean }).typed) throw new Error(`second TYPE in ${where}`);
        fam.type = rest as MetricType;
        (fam as PromFamily & { typed?: boolean }).typed = true;
      } else {
        fam.help = unescape(rest, false);
      }
      families.set(name!, fam);
      return;
    }
    const sample = parseSample(line, where);
    const fam = familyOf(families, sample.name);
    if (!fam) throw new Error(`sample without a family in ${where}`);
    const key = `${sample.name}{${Object.entries(sample.labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}}`;
    if (seen.has(key)) throw new Error(`duplicate series ${key} at ${where}`);
    seen.add(key);
    fam.samples.push(sample);
  });
  for (const fam of families.values()) if (fam.type === 'histogram') checkHistogram(fam);
  return families;
}

/** The family a sample name belongs to (histograms and summaries add _bucket, _sum, _count). */
function familyOf(families: Map<string, PromFamily>, name: string): PromFamily | undefined {
  const direct = families.get(name);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const fam = families.get(name.slice(0, -suffix.length));
    if (fam && (fam.type === 'histogram' || (fam.type === 'summary' && suffix !== '_bucket'))) return fam;
  }
  return undefined;
}

function parseSample(line: string, where: string): PromSample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?$/.exec(line);
  if (!m) throw new Error(`malformed sample in ${where}`);
  const labels = m[2] ? parseLabels(m[2].slice(1, -1), where) : {};
  return { name: m[1]!, labels, value: parseValue(m[3]!, where) };
}

function parseLabels(body: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    if (eq < 0) throw new Error(`label without "=" in ${where}`);
    const name = body.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name "${name}" in ${where}`);
    if (name in labels) throw new Error(`duplicate label "${name}" in ${where}`);
    if (body[eq + 1] !== '"') throw new Error(`label value must be quoted in ${where}`);
    let j = eq + 2;
    let raw = '';
    for (; j < body.length && body[j] !== '"'; j++) {
      if (body[j] === '\\') {
        raw += body.slice(j, j + 2);
        j++;
      } else raw += body[j];
    }
    if (j >= body.length) throw new Error(`unterminated label value in ${where}`);
    labels[name] = unescape(raw, true);
    i = j + 1;
    if (body[i] === ',') i++;
    else if (i < body.length) throw new Error(`expected "," between labels in ${where}`);
  }
  return labels;
}

function unescape(s: string, quoted: boolean): string {
  return s.replace(/\\(.)/g, (_, c: string) => {
    if (c === 'n') return '\n';
    if (c === '\\') return '\\';
    if (c === '"' && quoted) return '"';
    throw new Error(`bad escape \\${c}`);
  });
}

// Prometheus reads values with Go's strconv.ParseFloat: NaN and Inf in any letter case.
function parseValue(v: string, where: string): number {
  const special = /^([-+]?)(inf|infinity|nan)$/i.exec(v);
  if (special) return special[2]!.toLowerCase() === 'nan' ? (special[1] ? badValue(v, where) : NaN) : special[1] === '-' ? -Infinity : Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw new Error(`bad value "${v}" in ${where}`);
  return Number(v);
}

function badValue(v: string, where: string): never {
  throw new Error(`bad value "${v}" in ${where}`);
}

/** Buckets carry `le`, are cumulative, end at +Inf, and +Inf equals _count. */
function checkHistogram(fam: PromFamily): void {
  const groups = new Map<string, { le: number; v: number }[]>();
  const counts = new Map<string, number>();
  const keyOf = (l: Record<string, string>) => JSON.stringify(Object.entries(l).filter(([k]) => k !== 'le').sort());
  for (const s of fam.samples) {
    if (s.name === `${fam.name}_bucket`) {
      if (s.labels.le === undefined) throw new Error(`${fam.name}: bucket without le`);
      const list = groups.get(keyOf(s.labels)) ?? [];
      list.push({ le: parseValue(s.labels.le, fam.name), v: s.value });
      groups.set(keyOf(s.labels), list);
    } else if (s.name === `${fam.name}_count`) counts.set(keyOf(s.labels), s.value);
  }
  for (const [key, list] of groups) {
    list.sort((a, b) => a.le - b.le);
    for (let i = 1; i < list.length; i++) if (list[i]!.v < list[i - 1]!.v) throw new Error(`${fam.name}${key}: buckets not cumulative`);
    const inf = list[list.length - 1]!;
    if (inf.le !== Infinity) throw new Error(`${fam.name}${key}: no +Inf bucket`);
    if (counts.get(key) !== inf.v) throw new Error(`${fam.name}${key}: +Inf bucket ${inf.v} != _count ${counts.get(key)}`);
  }
}

/** Samples of `name` whose labels include all of `labels`. */
export function samplesOf(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): PromSample[] {
  const out: PromSample[] = [];
  for (const fam of families.values()) {
    for (const s of fam.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) out.push(s);
    }
  }
  return out;
}

/** The one sample of `name` with `labels`; throws when there is none or more than one. */
export function valueOf(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number {
  const found = samplesOf(families, name, labels);
  if (found.length !== 1) throw new Error(`expected one ${name}${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
}
