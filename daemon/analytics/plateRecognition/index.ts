/** Licence-plate recognition (NFV4-LPR): public surface for main and the frame sockets. */
export { buildPlateReader, DEFAULT_PLATE_MODELS, CN_PLATE_MODELS, localizerFor, ocrFor, type PlateModelsConfig } from './build.js';
export { PlateReader, pickRead, PLATE_VEHICLE_CLASSES, type PlateReaderDeps, type PlateReaderOptions, type PlateResult, type PlateVehicle, type VehicleDetector } from './reader.js';
export { createPlateRecognition, type PlateRecognitionAnalytic, type PlateRecognitionOptions } from './analytic.js';
export { PLATE_FORMAT_PRESETS, DEFAULT_PLATE_FORMATS, REGION_FORMATS, WEAK_FORMATS, normalisePlate, resolveFormats, type PlateFormat, type PlateFormatConfig } from './formats.js';
export { KnownPlates, DedupWindow, globToRegExp, type KnownPlate } from './knownPlates.js';
export { PlateVote } from './vote.js';
export { evaluatePlates, formatSummary, loadPlateTruth, scorePhoto, summarise, editDistance, type PlateTruth, type PhotoScore, type RegionSummary } from './evaluate.js';
