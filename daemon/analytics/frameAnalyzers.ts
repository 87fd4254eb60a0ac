/**
 * Frame analyzers: the stateless, one-frame-at-a-time face of the analytics that
 * the frame sockets and the REST twin call (DESIGN.md sections 1 and 6). Main
 * builds them from the same detectors the streams use and hands in a registry.
 */
import type { Detection } from '../detectors/types.js';
import type { RunOptions } from '../inference/types.js';
import type { Box, Point, RgbImage } from '../vision/image.js';

/** The JSON-able result of one frame; the sockets add frame_index and server_processing_time. */
export type FrameResult = Record<string, unknown>;

/** Analyses one decoded frame, keeping no state between frames. */
export interface FrameAnalyzer {
  /** The URL name: `/ws/<name>`, `/api/analyze/<name>`. */
  readonly name: string;
  analyze(img: RgbImage): Promise<FrameResult>;
}

/** Analyzers by name; `identify` serves `/ws/identify`, the others `/ws/<name>`. */
export type FrameAnalyzerRegistry = ReadonlyMap<string, FrameAnalyzer>;

/** Builds a registry from a list (later entries with the same name win). */
export function analyzerRegistry(analyzers: Iterable<FrameAnalyzer | undefined>): Map<string, FrameAnalyzer> {
  const m = new Map<string, FrameAnalyzer>();
  for (const a of analyzers) if (a) m.set(a.name, a);
  return m;
}

/** Anything that finds labelled boxes (createObjectDetector, createFaceDetector). */
export interface BoxDetector {
  detect(img: RgbImage, run?: RunOptions): Promise<Detection[]>;
}

/** The classes `detect` reports by default: persons and road vehicles. */
export const DETECT_CLASSES = ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck'] as const;
const VEHICLES = new Set(['bicycle', 'car', 'motorcycle', 'bus', 'truck']);

/** A box as JSON: integer-rounded pixel corners of the frame as sent. */
export interface JsonBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

function jsonBox(b: Box): JsonBox {
  return { x1: Math.round(b[0]), y1: Math.round(b[1]), x2: Math.round(b[2]), y2: Math.round(b[3]) };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function area(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

/**
 * `detect`: persons and vehicles of one frame, from an object detector built with
 * createObjectDetector (pass `classes: [...DETECT_CLASSES]` there or here).
 * Result: `{width, height, detections:[{label, confidence, box}], persons, vehicles}`.
 */
export function createDetectAnalyzer(detector: BoxDetector, opts: { classes?: readonly string[]; name?: string } = {}): FrameAnalyzer {
  const keep = new Set<string>(opts.classes ?? DETECT_CLASSES);
  return {
    name: opts.name ?? 'detect',
    async analyze(img) {
      const dets = (await detector.detect(img, { stream: 'frame-socket' })).filter((d) => keep.has(d.label));
      return {
        width: img.width,
        height: img.height,
        detections: dets.map((d) => ({ label: d.label, confidence: round3(d.score), box: jsonBox(d.box) })),
        persons: dets.filter((d) => d.label === 'person').length,
        vehicles: dets.filter((d) => VEHICLES.has(d.label)).length,
      };
    },
  };
}

/**
 * `face-detect`: faces with their 5 landmarks (eyes, nose, mouth corners), from
 * createFaceDetector. Result: `{width, height, faces:[{box, confidence, landmarks}]}`.
 */
export function createFaceDetectAnalyzer(detector: BoxDetector): FrameAnalyzer {
  return {
    name: 'face-detect',
    async analyze(img) {
      const faces = await detector.detect(img, { stream: 'frame-socket' });
      return {
        width: img.width,
        height: img.height,
        faces: faces.map((f) => ({
          box: jsonBox(f.box),
          confidence: round3(f.score),
          landmarks: (f.keypoints ?? []).map((p: Point) => [Math.round(p[0]), Math.round(p[1])]),
        })),
      };
    },
  };
}

/** Who an enrolled face belongs to, as `/ws/identify` reports it. */
export interface FaceMatch {
  person_id: string | number;
  name: string;
  relationship: string | null;
  confidence: number;
}

/** One face found and compared with the gallery (FaceRecognizer's IdentifiedFace fits). */
export interface IdentifiedFaceLike {
  box: Box;
  /** Detector score. */
  score: number;
  landmarks?: Point[];
  match: FaceMatch | null;
  /** Best gallery similarity, also when below the match threshold. */
  similarity?: number;
}

/** A stateless recognizer: FaceRecognizer (faceRecognition/faceRecognizer.ts) fits as is. */
export interface FaceIdentifier {
  identify(img: RgbImage, run?: RunOptions): Promise<{ faces: IdentifiedFaceLike[] }>;
}

/** `face-recognize`: every face with its gallery match or null. */
export function createFaceRecognizeAnalyzer(recognizer: FaceIdentifier): FrameAnalyzer {
  return {
    name: 'face-recognize',
    async analyze(img) {
      const { faces } = await recognizer.identify(img, { stream: 'frame-socket' });
      return {
        width: img.width,
        height: img.height,
        faces: faces.map((f) => ({
          box: jsonBox(f.box),
          confidence: round3(f.score),
          landmarks: (f.landmarks ?? []).map((p) => [Math.round(p[0]), Math.round(p[1])]),
          match: roundMatch(f.match),
          similarity: round3(f.similarity ?? f.match?.confidence ?? 0),
        })),
      };
    },
  };
}

/** `identify` (served on `/ws/identify`): `{face_detected, match}` for the largest face. */
export function createIdentifyAnalyzer(recognizer: FaceIdentifier): FrameAnalyzer {
  return {
    name: 'identify',
    async analyze(img) {
      const { faces } = await recognizer.identify(img, { stream: 'frame-socket' });
      let largest: IdentifiedFaceLike | undefined;
      for (const f of faces) if (!largest || area(f.box) > area(largest.box)) largest = f;
      return { face_detected: largest !== undefined, match: largest ? roundMatch(largest.match) : null };
    },
  };
}

function roundMatch(m: FaceMatch | null): FaceMatch | null {
  return m ? { person_id: m.person_id, name: m.name, relationship: m.relationship ?? null, confidence: round3(m.confidence) } : null;
}

/** One plate read (PlateReader's PlateResult fits). */
export interface PlateReading {
  text: string;
  confidence: number;
  box: Box;
  /** Colour for CN plates plus `-double`, else single/double. */
  type?: string;
  format?: string | null;
  vehicle?: { label: string; box: Box; confidence: number };
}

/** A stateless plate reader: PlateReader (plateRecognition/reader.ts) fits as is. */
export interface PlateReaderLike {
  read(img: RgbImage, run?: RunOptions): Promise<PlateReading[]>;
}

/**
 * `plate`: every plate with its text (NFV4-LPR key names). Result: `{width, height,
 * plates:[{plate_number, plate_confidence, plate_type, format, box, vehicle}]}`.
 */
export function createPlateAnalyzer(reader: PlateReaderLike): FrameAnalyzer {
  return {
    name: 'plate',
    async analyze(img) {
      const plates = await reader.read(img, { stream: 'frame-socket' });
      return {
        width: img.width,
        height: img.height,
        plates: plates.map((p) => ({
          plate_number: p.text,
          plate_confidence: round3(p.confidence),
          plate_type: p.type ?? null,
          format: p.format ?? null,
          box: jsonBox(p.box),
          vehicle: p.vehicle ? { label: p.vehicle.label, confidence: round3(p.vehicle.confidence), box: jsonBox(p.vehicle.box) } : null,
        })),
      };
    },
  };
}
