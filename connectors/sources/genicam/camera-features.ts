/**
 * The GenICam features a `genicam` source sets on its camera, as a zod schema (the one home of
 * their rules and defaults), and their application in a fixed order with a read-back of what
 * the camera took. Nothing is logged here: the source logs the read-back.
 */
import { z } from 'zod';
import { type AravisLibrary, GenicamError, type Pointer, RANGE_CHECK_ENABLE } from './aravis-library.js';
import {
  enumerationEntries,
  type FeatureValue,
  featureKind,
  firstFeature,
  missingFeature,
  readFeature,
  setFeature,
} from './feature-access.js';

/** Pixel formats a line can come in (the source unpacks each into uint16). */
export const PIXEL_FORMAT_NAMES = ['Mono8', 'Mono10', 'Mono12', 'Mono12Packed', 'Mono12p', 'Mono16'] as const;

/** One of {@link PIXEL_FORMAT_NAMES}. */
export type PixelFormatName = (typeof PIXEL_FORMAT_NAMES)[number];

/** The trigger selector used when `triggerMode` or `triggerSource` is given without `triggerSelector`. */
export const DEFAULT_TRIGGER_SELECTOR = 'FrameStart';

const FEATURE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Features to set on the camera; each absent one is left as the camera has it. */
export const GenicamFeaturesSchema = z
  .object({
    /** `Width`: pixels per camera frame row (for a push-broom camera: spatial pixels, or bands). */
    width: z.number().int().positive().optional(),
    /** `OffsetX`, set after `Width` (OffsetX is zeroed first so that any width fits). */
    offsetX: z.number().int().nonnegative().optional(),
    /** `Height`: rows per camera frame (for a push-broom camera: bands, or spatial pixels). */
    height: z.number().int().positive().optional(),
    /** `OffsetY` (the band window's first band on most HSI cameras). */
    offsetY: z.number().int().nonnegative().optional(),
    /** `BinningHorizontal`. */
    binningHorizontal: z.number().int().positive().optional(),
    /** `BinningVertical`. */
    binningVertical: z.number().int().positive().optional(),
    /** `PixelFormat`. */
    pixelFormat: z.enum(PIXEL_FORMAT_NAMES).optional(),
    /** Exposure in µs: `ExposureTime`, or `ExposureTimeAbs` (SFNC 1); `ExposureAuto` is turned Off. */
    exposureUs: z.number().positive().optional(),
    /** Free-run rate in Hz (lines/s of a push-broom camera): `AcquisitionFrameRate(Abs)`, or `AcquisitionLineRate`. */
    frameRate: z.number().positive().optional(),
    /** `TriggerMode` of the trigger selector (On: one line per trigger, e.g. an encoder pulse). */
    triggerMode: z.enum(['On', 'Off']).optional(),
    /** `TriggerSource`, e.g. `Line0`, `Software`, `Encoder0`. */
    triggerSource: z.string().min(1).optional(),
    /** `TriggerSelector` (default {@link DEFAULT_TRIGGER_SELECTOR} when a trigger mode or source is given). */
    triggerSelector: z.string().min(1).optional(),
    /** `GevSCPSPacketSize` in bytes, IP/UDP/GVSP headers included (GigE Vision): at most the path MTU. */
    packetSize: z.number().int().positive().optional(),
    /** Any other feature by its GenICam name, set last, e.g. `{ GevSCPD: 1000, ReverseX: true }`. */
    extra: z
      .record(
        z.string().regex(FEATURE_NAME, 'a GenICam feature name'),
        z.union([z.string(), z.number(), z.boolean()]),
      )
      .optional(),
  })
  .strict();

/** Features to set on the camera (the parsed {@link GenicamFeaturesSchema}). */
export type GenicamFeatures = z.infer<typeof GenicamFeaturesSchema>;

/** Feature values read back after setting, by GenICam name, e.g. `{ Width: 1024, PixelFormat: 'Mono16', ... }`. */
export type FeatureReadback = Readonly<Record<string, string | number | boolean>>;

/** Names a frame rate goes by, in the order they are tried. */
const FRAME_RATE_FEATURES = [
  'AcquisitionFrameRate',
  'AcquisitionFrameRateAbs',
  'AcquisitionLineRate',
] as const;

class FeatureWriter {
  /** Feature names to read back at the end, in the order they were set. */
  readonly written: string[] = [];
  readonly readback: Record<string, FeatureValue> = {};

  constructor(
    readonly aravis: AravisLibrary,
    readonly camera: Pointer,
  ) {}

  has(name: string): boolean {
    return featureKind(this.aravis, this.camera, name) !== undefined;
  }

  set(name: string, value: FeatureValue): void {
    setFeature(this.aravis, this.camera, name, value);
    if (!this.written.includes(name)) this.written.push(name);
  }

  read(name: string): FeatureValue {
    return readFeature(this.aravis, this.camera, name);
  }
}

function setPixelFormat(w: FeatureWriter, format: PixelFormatName): void {
  try {
    w.set('PixelFormat', format);
  } catch (error) {
    if (!(error instanceof GenicamError) || error.transient || error.call === 'arv_device_get_feature')
      throw error;
    const offered = enumerationEntries(w.aravis, w.camera, 'PixelFormat');
    throw new GenicamError({
      call: error.call,
      feature: 'PixelFormat',
      value: format,
      domain: error.domain,
      aravisCode: error.aravisCode,
      detail: `${error.detail}; the camera offers ${offered.join(', ') || 'no pixel format'}`,
    });
  }
}

/** Sets a size and its offset: offset 0 first (so that any size fits), the size, then the offset. */
function setWindow(
  w: FeatureWriter,
  size: string,
  sizeValue?: number,
  offset?: string,
  offsetValue?: number,
): void {
  if (offset !== undefined && offsetValue !== undefined && sizeValue !== undefined && w.has(offset))
    setFeature(w.aravis, w.camera, offset, 0);
  if (sizeValue !== undefined) w.set(size, sizeValue);
  if (offset !== undefined && offsetValue !== undefined) w.set(offset, offsetValue);
}

function setExposure(w: FeatureWriter, exposureUs: number): void {
  const name = firstFeature(w.aravis, w.camera, ['ExposureTime', 'ExposureTimeAbs'], exposureUs);
  if (featureKind(w.aravis, w.camera, 'ExposureAuto') === 'enumeration') w.set('ExposureAuto', 'Off');
  w.set(name, exposureUs);
}

function setFrameRate(w: FeatureWriter, rate: number): void {
  const name = firstFeature(w.aravis, w.camera, FRAME_RATE_FEATURES, rate);
  const { fn } = w.aravis;
  if (name === 'AcquisitionLineRate') {
    if (w.has('AcquisitionLineRateEnable')) w.set('AcquisitionLineRateEnable', true);
    w.set(name, rate);
    return;
  }
  const min: [number | bigint] = [0];
  const max: [number | bigint] = [0];
  w.aravis.check(
    'arv_camera_get_frame_rate_bounds',
    (e) => fn.arv_camera_get_frame_rate_bounds(w.camera, min, max, e),
    name,
  );
  if (rate < Number(min[0]) || rate > Number(max[0]))
    throw new GenicamError({
      call: 'arv_camera_set_frame_rate',
      feature: name,
      value: String(rate),
      detail: `outside the camera's range [${Number(min[0])}, ${Number(max[0])}] Hz`,
    });
  // Aravis's helper handles the vendor variants (…Enable, …Abs, FLIR's …Auto) and clears the triggers.
  w.aravis.check(
    'arv_camera_set_frame_rate',
    (e) => fn.arv_camera_set_frame_rate(w.camera, rate, e),
    name,
    rate,
  );
  if (w.has('AcquisitionFrameRateEnable')) w.written.push('AcquisitionFrameRateEnable');
  w.written.push(name);
}

function setTrigger(w: FeatureWriter, features: GenicamFeatures): void {
  const { triggerMode, triggerSource } = features;
  const selector =
    features.triggerSelector ??
    (triggerMode !== undefined || triggerSource !== undefined ? DEFAULT_TRIGGER_SELECTOR : undefined);
  if (selector === undefined) return;
  const chosen: [string, string][] = [['TriggerSelector', selector]];
  if (triggerSource !== undefined) chosen.push(['TriggerSource', triggerSource]);
  if (triggerMode !== undefined) chosen.push(['TriggerMode', triggerMode]);
  for (const [name, value] of chosen) setFeature(w.aravis, w.camera, name, value);
  // Mode and source belong to the selected trigger: read them now, before anything selects another.
  for (const [name] of chosen) w.readback[name] = w.read(name);
}

function setPacketSize(w: FeatureWriter, size: number): void {
  const { fn } = w.aravis;
  if (!fn.arv_camera_is_gv_device(w.camera))
    throw new GenicamError({
      call: 'arv_camera_gv_set_packet_size',
      feature: 'GevSCPSPacketSize',
      value: String(size),
      detail: 'packetSize applies to GigE Vision cameras only',
    });
  w.aravis.check(
    'arv_camera_gv_set_packet_size',
    (e) => fn.arv_camera_gv_set_packet_size(w.camera, size, e),
    'GevSCPSPacketSize',
    size,
  );
  w.written.push('GevSCPSPacketSize');
}

function setExtra(w: FeatureWriter, extra: Readonly<Record<string, FeatureValue>>): void {
  for (const [name, value] of Object.entries(extra)) {
    const kind = featureKind(w.aravis, w.camera, name);
    if (kind === undefined) throw missingFeature([name], value);
    setFeature(w.aravis, w.camera, name, value);
    if (kind !== 'command' && !w.written.includes(name)) w.written.push(name);
  }
}

/**
 * Sets `features` on an open camera, in this order: PixelFormat, binning, Width/OffsetX,
 * Height/OffsetY, exposure, frame rate, trigger, packet size, extra; then reads back every
 * feature set, plus Width, Height, PixelFormat and PayloadSize. Out-of-range values fail (Aravis's
 * range check is turned on) instead of being written.
 *
 * @throws {@link GenicamError} naming the feature (and the fallback names tried) the camera lacks
 *   or refuses; `transient` when the link, not the value, failed
 * @example
 * ```ts
 * import type { AravisLibrary, Pointer } from './aravis-library.js';
 * declare const aravis: AravisLibrary; declare const camera: Pointer;
 * const readback = applyFeatures(aravis, camera, { width: 1024, height: 224, pixelFormat: 'Mono16', frameRate: 300 });
 * readback.PixelFormat; // 'Mono16'
 * ```
 */
export function applyFeatures(
  aravis: AravisLibrary,
  camera: Pointer,
  features: GenicamFeatures,
): FeatureReadback {
  aravis.fn.arv_camera_set_range_check_policy(camera, RANGE_CHECK_ENABLE);
  const w = new FeatureWriter(aravis, camera);
  if (features.pixelFormat !== undefined) setPixelFormat(w, features.pixelFormat);
  if (features.binningHorizontal !== undefined) w.set('BinningHorizontal', features.binningHorizontal);
  if (features.binningVertical !== undefined) w.set('BinningVertical', features.binningVertical);
  setWindow(w, 'Width', features.width, 'OffsetX', features.offsetX);
  setWindow(w, 'Height', features.height, 'OffsetY', features.offsetY);
  if (features.exposureUs !== undefined) setExposure(w, features.exposureUs);
  if (features.frameRate !== undefined) setFrameRate(w, features.frameRate);
  setTrigger(w, features);
  if (features.packetSize !== undefined) setPacketSize(w, features.packetSize);
  if (features.extra !== undefined) setExtra(w, features.extra);
  return readBack(w);
}

function readBack(w: FeatureWriter): FeatureReadback {
  for (const name of [...w.written, 'Width', 'Height', 'PixelFormat']) {
    if (name in w.readback) continue;
    w.readback[name] =
      name === 'GevSCPSPacketSize'
        ? w.aravis.check(
            'arv_camera_gv_get_packet_size',
            (e) => w.aravis.fn.arv_camera_gv_get_packet_size(w.camera, e),
            name,
          )
        : w.read(name);
  }
  w.readback.PayloadSize = w.aravis.check(
    'arv_camera_get_payload',
    (e) => w.aravis.fn.arv_camera_get_payload(w.camera, e),
    'PayloadSize',
  );
  return w.readback;
}
