/**
 * The settings of the GenICam line-scan camera source (`genicamSource`) a configuration holds,
 * with their defaults: the one home of those defaults (the run configuration's `source` section
 * of kind `genicam` is this schema). The acquisition settings (buffers, camera loss, reconnect
 * backoff, packet resend) are `LineStreamSettingsSchema`'s, the features `GenicamFeaturesSchema`'s.
 */
import { z } from 'zod';
import { CAMERA_ID_PATTERN, CAMERA_ID_RULE } from '../../../src/core/camera-id.js';
import { DEFAULT_CAMERA_ID } from '../../../src/core/frame.js';
import { GenicamFeaturesSchema } from './camera-features.js';
import { LINE_LAYOUTS } from './line-layout.js';
import { LineStreamSettingsSchema } from './line-stream-options.js';

const PositiveInt = z.number().int().positive();

/** Centre wavelengths in nm: a list (one per band), or the `wavelength` field of an ENVI header. */
export const GenicamWavelengthsSchema = z.union([
  z.array(z.number().positive()).min(1),
  z.strictObject({
    /** An ENVI `.hdr` whose `wavelength` list (nm, or µm converted) gives the bands. */
    enviHeader: z.string().min(1),
  }),
]);

/**
 * Settings of a GenICam (GigE Vision / USB3 Vision) line-scan camera read through Aravis; with
 * `LineStreamSettingsSchema`'s `buffers`, `lostAfterMs`, `backoff` and `packetResend`.
 */
export const GenicamSourceSettingsSchema = LineStreamSettingsSchema.extend({
  /** The camera: its Aravis device id (`cubestream cameras`), IP address or serial number. */
  camera: z.string().min(1),
  /** Camera id of the frames (topics, metric labels). */
  cameraId: z.string().regex(CAMERA_ID_PATTERN, CAMERA_ID_RULE).default(DEFAULT_CAMERA_ID),
  /** GenICam features set at open and after every reconnect, then read back and logged. */
  features: GenicamFeaturesSchema.prefault({}),
  /** Which camera axis carries the bands: `bands-rows` (Height = bands, the usual push-broom) or `bands-columns`. */
  lineLayout: z.enum(LINE_LAYOUTS).default('bands-rows'),
  /** Band centres (nm); absent: band indices. The count must equal the camera's band count. */
  wavelengths: GenicamWavelengthsSchema.optional(),
  /** Lines per emitted block. */
  blockRows: PositiveInt.default(64),
  /** Stop after this many blocks (then the service drains, flushes and exits 0). */
  maxBlocks: PositiveInt.optional(),
  /** Folder of dark and white references (`cubestream calibrate`): frames become reflectance. */
  calibration: z.string().min(1).optional(),
  /** References older than this are warned about at start. */
  maxCalibrationAgeHours: z.number().positive().default(24),
});

/** Settings of `genicamSource` as written (before defaults). */
export type GenicamSourceSettingsInput = z.input<typeof GenicamSourceSettingsSchema>;
/** Settings of `genicamSource`, defaults filled in. */
export type GenicamSourceSettings = z.output<typeof GenicamSourceSettingsSchema>;
