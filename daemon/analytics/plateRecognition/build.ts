import { join } from 'node:path';
import { VigilError } from '../../errors.js';
import type { ModelProvider, ModelRunner } from '../../inference/types.js';
import { createObjectDetector } from '../../detectors/objectDetector.js';
import { createPpocrTextDetector } from '../../detectors/ppocrDet.js';
import { createRetinaPlateDetector } from '../../detectors/retinaPlate.js';
import { createYolov5PlateDetector } from '../../detectors/yolov5Plate.js';
import { createDetectorLocalizer, createTextLocalizer, type PlateLocalizer } from './localize.js';
import { createCctOcr, loadCctRegions, createLprnetOcr, createPlateRecCnOcr, createPpocrRecOcr, loadPpocrDictionary, type PlateOcr } from './ocr.js';
import { PLATE_VEHICLE_CLASSES, PlateReader, type PlateReaderOptions } from './reader.js';

/** Which models the plate pipeline uses (manifest names); defaults are the permissive ones. */
export interface PlateModelsConfig {
  /** Vehicle detector. Default `yolox_nano`; null reads whole frames only. */
  vehicleDetector?: string | null;
  /** Plate localiser: a plate-detector (yolov5-plate / retina-plate, opt-in) or a ppocr-det text detector. Default `ppocrv4_det`. */
  plateLocalizer?: string;
  /** OCR chain, tried in order. Default [`plate_ocr_cct_xs_v2_global`, `ppocrv4_rec`] (v2 chosen by `bench plates`). */
  ocr?: string[];
}

/** Permissive defaults: text detector + CCT then PP-OCR. */
export const DEFAULT_PLATE_MODELS: Required<PlateModelsConfig> = {
  vehicleDetector: 'yolox_nano',
  plateLocalizer: 'ppocrv4_det',
  ocr: ['plate_ocr_cct_xs_v2_global', 'ppocrv4_rec'],
};

/** The opt-in Chinese pipeline (non-permissive models). */
export const CN_PLATE_MODELS: Required<PlateModelsConfig> = {
  vehicleDetector: 'yolox_nano',
  plateLocalizer: 'plate_detect_yolov5_cn',
  ocr: ['plate_rec_color_cn'],
};

/** A localiser for a loaded model, chosen by its family. */
export function localizerFor(runner: ModelRunner): PlateLocalizer {
  switch (runner.spec.family) {
    case 'yolov5-plate': return createDetectorLocalizer(createYolov5PlateDetector(runner));
    case 'retina-plate': return createDetectorLocalizer(createRetinaPlateDetector(runner));
    case 'ppocr-det': return createTextLocalizer(createPpocrTextDetector(runner, { maxSide: 960 }));
    default: throw new VigilError('VIGIL_ERR_CONFIG', `Model ${runner.spec.name} (family ${runner.spec.family}) cannot localise plates`);
  }
}

/** An OCR strategy for a loaded model; `assetDir` holds manifest assets (the PP-OCR dictionary). */
export function ocrFor(runner: ModelRunner, assetDir: string): PlateOcr {
  const s = runner.spec;
  if (s.family === 'cct') {
    const regions = s.decode?.regions;
    return createCctOcr(runner, typeof regions === 'string' ? loadCctRegions(join(assetDir, regions)) : undefined);
  }
  if (s.family === 'ctc') {
    const dict = s.decode?.dictionary;
    if (typeof dict === 'string') return createPpocrRecOcr(runner, loadPpocrDictionary(join(assetDir, dict)));
    if (s.decode?.layout === 'CT') return createLprnetOcr(runner);
    return createPlateRecCnOcr(runner);
  }
  throw new VigilError('VIGIL_ERR_CONFIG', `Model ${s.name} (family ${s.family}) is not a plate OCR model`);
}

/**
 * Builds the shared PlateReader from the model provider (main: the InferenceEngine,
 * `assetDir` = `<dataDir>/models`). One reader serves every stream and the frame sockets.
 */
export async function buildPlateReader(models: ModelProvider, assetDir: string, cfg: PlateModelsConfig = {}, opts: PlateReaderOptions = {}): Promise<PlateReader> {
  const m = { ...DEFAULT_PLATE_MODELS, ...cfg };
  const classes = opts.vehicleClasses ?? [...PLATE_VEHICLE_CLASSES];
  // The vehicle crop decides the plate crop, and plate reading was evaluated on the square
  // input: with the frame's aspect the opt-in Chinese pipeline read one of the street photo's
  // three plates wrong (鲁D6CM86 as 鲁D6CMB6). Square until plates are re-evaluated with it.
  const vehicles = m.vehicleDetector ? createObjectDetector(await models.get(m.vehicleDetector), { classes, frameAspect: false }) : null;
  const localizer = localizerFor(await models.get(m.plateLocalizer));
  if (!m.ocr.length) throw new VigilError('VIGIL_ERR_CONFIG', 'plate-recognition needs at least one OCR model');
  const ocr: PlateOcr[] = [];
  for (const name of m.ocr) ocr.push(ocrFor(await models.get(name), assetDir));
  return new PlateReader({ vehicles, localizer, ocr }, opts);
}
