import { VigilError } from '../../errors.js';

/** A plate format: a name and an anchored regex over the normalised text (A-Z, 0-9, CJK). */
export interface PlateFormat {
  name: string;
  pattern: RegExp;
}

const CN_PROVINCES = '京沪津渝冀晋蒙辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新';

/**
 * Named presets, most specific first. `cn` forbids I and O as Chinese plates do; `id` is
 * Indonesia (e.g. B1234XYZ); `vanity` (letters only, as US and some EU custom plates) is
 * weak: any word fits it, so a read fitting a real format always ranks above it.
 */
export const PLATE_FORMAT_PRESETS: Readonly<Record<string, string>> = {
  // Province, city letter, 4-5 characters, then a character or a class suffix (police 警, trailer 挂 ...).
  cn: `^[${CN_PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳使领]$`,
  // Great Britain (2001 scheme): AB12CDE.
  uk: '^[A-Z]{2}[0-9]{2}[A-Z]{3}$',
  // Brazil: grey LLL9999 and Mercosur LLL9L99.
  br: '^[A-Z]{3}[0-9][A-Z0-9][0-9]{2}$',
  // Mercosur elsewhere: Argentina LL999LL, Paraguay/Uruguay LLL9999 style.
  mercosur: '^[A-Z]{2}[0-9]{3}[A-Z]{2}$|^[A-Z]{3}[0-9]{3,4}$',
  // Germany: district (1-3), 1-2 letters, 1-4 digits, optional E (electric) / H (historic).
  de: '^[A-Z]{1,3}[A-Z]{1,2}[0-9]{1,4}[EH]?$',
  // France (SIV) and Italy: AB123CD.
  fr: '^[A-Z]{2}[0-9]{3}[A-Z]{2}$',
  it: '^[A-Z]{2}[0-9]{3}[A-Z]{2}$',
  // Spain (2000 scheme): 1234BCD, no vowels.
  es: '^[0-9]{4}[B-DF-HJ-NP-TV-Z]{3}$',
  // Indonesia: region letters, 1-4 digits, up to 3 letters.
  id: '^[A-Z]{1,2}[0-9]{1,4}[A-Z]{0,3}$',
  // Most European plates: 4-8 characters mixing letters and digits.
  'eu-generic': '^(?=[A-Z0-9]*[0-9])(?=[A-Z0-9]*[A-Z])[A-Z0-9]{4,8}$',
  // US (every state's standard and most custom plates): 2-8 characters with at least one digit.
  'us-generic': '^(?=[A-Z0-9]*[0-9])[A-Z0-9]{2,8}$',
  // Custom plates of letters only (US vanity, some EU show plates).
  vanity: '^[A-Z]{4,8}$',
};

/** Formats any word fits: a read matching only these ranks below a read matching a real format. */
export const WEAK_FORMATS: ReadonlySet<string> = new Set(['vanity']);

/** The default expected formats: every preset (config `formats` narrows them to the regions a site sees). */
export const DEFAULT_PLATE_FORMATS: readonly string[] = Object.keys(PLATE_FORMAT_PRESETS);

/** The format preset of a country named by a reader's region head (fast-plate-ocr v2 `plate_regions`). */
export const REGION_FORMATS: Readonly<Record<string, string>> = {
  Brazil: 'br', 'United Kingdom': 'uk', Germany: 'de', France: 'fr', Italy: 'it', Spain: 'es', Indonesia: 'id', Argentina: 'mercosur',
};

/** Config form of a format: a preset name, or a custom `{name, pattern}`. */
export type PlateFormatConfig = string | { name: string; pattern: string };

/** Resolves preset names and custom regexes; unknown presets or bad regexes → VIGIL_ERR_CONFIG. */
export function resolveFormats(list: readonly PlateFormatConfig[]): PlateFormat[] {
  return list.map((f) => {
    const name = typeof f === 'string' ? f : f.name;
    const src = typeof f === 'string' ? PLATE_FORMAT_PRESETS[f] : f.pattern;
    if (src === undefined) throw new VigilError('VIGIL_ERR_CONFIG', `Unknown plate format preset "${name}" (presets: ${Object.keys(PLATE_FORMAT_PRESETS).join(', ')})`);
    try {
      // Anchored so a format cannot match part of a longer read.
      const anchored = `${src.startsWith('^') ? '' : '^'}${src}${src.endsWith('$') ? '' : '$'}`;
      return { name, pattern: new RegExp(anchored, 'u') };
    } catch (err) {
      throw new VigilError('VIGIL_ERR_CONFIG', `Plate format "${name}" is not a valid regex: ${(err as Error).message}`);
    }
  });
}

/** Characters OCR confuses, corrected only when a format requires the other one. */
const CONFUSIONS: Readonly<Record<string, string>> = { O: '0', '0': 'O', I: '1', '1': 'I', B: '8', '8': 'B' };
/** At most 2^this substitutions are tried per read. */
const MAX_AMBIGUOUS = 10;

/** A normalised read: characters kept aligned with their confidences. */
export interface NormalisedPlate {
  text: string;
  chars: string[];
  confidences: number[];
  /** Name of the first format the text matches, null when none does. */
  format: string | null;
  /** Number of confusion substitutions applied to match the format. */
  corrections: number;
}

const KEEP = /^[A-Z0-9]$|^\p{Script=Han}$/u;

/**
 * Uppercases, drops separators (spaces, dots, `·`, dashes), then checks the formats in order:
 * a direct match wins; otherwise the fewest O/0, I/1, B/8 swaps that make some format match.
 */
export function normalisePlate(chars: readonly string[], confidences: readonly number[], formats: readonly PlateFormat[]): NormalisedPlate {
  const c: string[] = [];
  const p: number[] = [];
  chars.forEach((ch, i) => {
    const u = ch.toUpperCase();
    if (KEEP.test(u)) { c.push(u); p.push(confidences[i] ?? 0); }
  });
  const text = c.join('');
  for (const f of formats) if (f.pattern.test(text)) return { text, chars: c, confidences: p, format: f.name, corrections: 0 };
  const amb: number[] = [];
  c.forEach((ch, i) => { if (CONFUSIONS[ch] && amb.length < MAX_AMBIGUOUS) amb.push(i); });
  let best: { chars: string[]; format: string; n: number } | null = null;
  for (let mask = 1; mask < 1 << amb.length; mask++) {
    let n = 0;
    for (let m = mask; m; m &= m - 1) n++;
    if (best && n >= best.n) continue;
    const t = c.slice();
    amb.forEach((pos, k) => { if (mask & (1 << k)) t[pos] = CONFUSIONS[t[pos]!]!; });
    const s = t.join('');
    const f = formats.find((fm) => fm.pattern.test(s));
    if (f) best = { chars: t, format: f.name, n };
  }
  if (best) return { text: best.chars.join(''), chars: best.chars, confidences: p, format: best.format, corrections: best.n };
  return { text, chars: c, confidences: p, format: null, corrections: 0 };
}
