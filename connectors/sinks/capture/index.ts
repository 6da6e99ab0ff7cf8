/**
 * The capture sink (`sinks.capture`, docs/capture.md): decided blocks saved as ENVI cubes with
 * their score map, predicted mask and decision, under a disk budget, in a folder
 * `cubestream train` reads as it is.
 *
 * @example
 * ```ts
 * import { CaptureSettingsSchema, CaptureSink } from './index.js';
 * const capture = new CaptureSink(CaptureSettingsSchema.parse({ dir: 'captures', normalSample: 0.01 }), { metrics, logger });
 * await capture.open();
 * ```
 */
export {
  CAPTURE_CUBE_KEYS,
  CAPTURE_FILES,
  CAPTURE_FOLDERS,
  CAPTURE_KINDS,
  CAPTURE_SCHEMA,
  type CaptureKind,
  type CaptureMetadata,
  type CaptureSnapshot,
  captureName,
  decodeCaptureScores,
  snapshotOf,
  writeCaptureFolder,
} from './capture-files.js';
export {
  CAPTURE_DATA_TYPES,
  type CaptureDataType,
  type CaptureSettings,
  type CaptureSettingsInput,
  CaptureSettingsSchema,
} from './capture-options.js';
export {
  CAPTURE_DROP_REASONS,
  type CaptureDropReason,
  type CaptureOffer,
  CaptureSink,
  type CaptureSinkContext,
  type CaptureSinkMetrics,
} from './capture-sink.js';
export {
  CAPTURE_DELETE_REASONS,
  CAPTURE_INCOMING,
  type CaptureDeleteReason,
  CaptureStore,
  type CaptureStoreOptions,
  type StoredCapture,
  statCapture,
} from './capture-store.js';
