import { CAMERA_ID_RULE, isCameraId } from './camera-id.js';
import { CubestreamError, describeValue } from './errors.js';
import type { BlockTruth } from './truth.js';

/**
 * Why a frame was rejected; the `reason` label of `cubestream_frames_rejected_total`.
 * - `metadata`: identity fields (camera id, frame id, row offset, timestamps) are wrong;
 * - `shape`: height/width/bands are not positive integers or do not match the data;
 * - `size`: the frame claims more values than {@link FrameLimits.maxValues};
 * - `wavelengths`: wavelength count or values are wrong, or do not match a model;
 * - `bands`: the band count does not match what a model expects;
 * - `nonfinite`: the data holds NaN or ±Infinity;
 * - `labels`: the label mask has the wrong length;
 * - `decode`: the bytes on the wire could not be decoded into a frame;
 * - `camera`: a broker message's camera is not admitted (not in the allow-list, past the cap on
 *   cameras, or its metadata names another camera than the topic/subject it arrived on);
 * - `radiometry`: the frame states counts where the model was trained on reflectance (or the
 *   other way round), or a calibration stage was given a frame already in reflectance.
 */
export type FrameRejectReason = (typeof FRAME_REJECT_REASONS)[number];

/** Every {@link FrameRejectReason}, in the order documented above. */
export const FRAME_REJECT_REASONS = [
  'metadata',
  'shape',
  'size',
  'wavelengths',
  'bands',
  'nonfinite',
  'labels',
  'decode',
  'camera',
  'radiometry',
] as const;

/**
 * A frame (or block of rows) that failed validation. `field` names the offending field and
 * `value` renders its value, so the message alone tells an operator what to fix.
 *
 * @example
 * ```ts
 * new InvalidFrameError('shape', 'height', 0, 'must be a positive integer')
 * // message: "invalid frame: height = 0: must be a positive integer"
 * ```
 */
export class InvalidFrameError extends CubestreamError {
  /** The frame field at fault, e.g. `data`, `height`, `wavelengths[3]`. */
  readonly field: string;
  /** Short rendering of the offending value. */
  readonly value: string;
  declare readonly code: FrameRejectReason;

  /**
   * @param reason - the rejection reason code
   * @param field - the field at fault
   * @param value - the offending value (rendered with {@link describeValue})
   * @param problem - what is wrong with it
   */
  constructor(
    reason: FrameRejectReason,
    field: string,
    value: unknown,
    problem: string,
    options?: { cause?: unknown },
  ) {
    const rendered = describeValue(value);
    super(reason, `invalid frame: ${field} = ${rendered}: ${problem}`, options);
    this.field = field;
    this.value = rendered;
  }
}

/** Whether `wavelengths` are physical wavelengths in nanometres or plain band indices. */
export type WavelengthUnits = 'nm' | 'index';

/**
 * What a frame's values are: `counts` (the camera's digital numbers, DN) or `reflectance`
 * (`(DN - dark) / (white - dark)`, docs/maths.md §4; src/core/reflectance.ts).
 */
export type Radiometry = (typeof RADIOMETRIES)[number];

/** Every {@link Radiometry}. */
export const RADIOMETRIES = ['counts', 'reflectance'] as const;

/**
 * Whether `value` is a {@link Radiometry}.
 *
 * @example
 * ```ts
 * isRadiometry('reflectance'); // true
 * isRadiometry('radiance'); // false
 * ```
 */
export function isRadiometry(value: unknown): value is Radiometry {
  return (RADIOMETRIES as readonly unknown[]).includes(value);
}

/**
 * The unit of the stream (docs/architecture.md §2): a whole cube, or a block of rows of a larger cube.
 *
 * Data is pixel-major (BIP): value of pixel `p = row * width + col` in band `b` is
 * `data[p * bands + b]`.
 *
 * Immutable: the frame object and its arrays (`data`, `wavelengths`, `labels`, `timings`); no
 * stage writes them, and a stage that changes anything emits a new object (sharing the arrays
 * it left alone). Not immutable: the memory behind `data` once its owner lets go of it. A source
 * that lends block buffers from a pool (`release` present) fills the buffer, lends it with the
 * frame, and refills it for a later block once released. Whoever holds the frame owns the
 * buffer: the pipeline while the frame is in it, which releases frames that leave without a
 * decision (rejected, dropped, still queued at the end); a decided frame carries `release` on
 * to the decisions' subscriber, which calls it once, after the last read of the block's spectra
 * (the live viewer's strip). A frame without `release` owns its data outright.
 */
export interface CubeFrame {
  /** Camera that produced the frame; used in topics, subjects and metric labels. */
  readonly cameraId: string;
  /** Monotonic per camera; all row blocks of one cube share it. */
  readonly frameId: number;
  /** Index of this block's first row within the whole frame (0 for a whole cube). */
  readonly rowOffset: number;
  /** Rows of the whole frame this block belongs to (`height` for a whole cube). */
  readonly totalRows: number;
  /** Capture time, epoch milliseconds, from the source. */
  readonly capturedAt: number;
  /** Per-stage timestamps (epoch ms) for latency accounting, keyed by stage name. */
  readonly timings: Readonly<Record<string, number>>;
  /** Rows in this block. */
  readonly height: number;
  /** Pixels per row. */
  readonly width: number;
  /** Spectral channels per pixel. */
  readonly bands: number;
  /** Centre wavelength of each band (nm), or the band index when unknown (see `wavelengthUnits`). */
  readonly wavelengths: Float32Array;
  /** `nm` when `wavelengths` are physical, `index` when they are band numbers. */
  readonly wavelengthUnits: WavelengthUnits;
  /** `[height * width, bands]` float32, pixel-major (BIP). */
  readonly data: Float32Array;
  /** Optional class id per pixel (`height * width`), for training and evaluation. */
  readonly labels?: Uint8Array;
  /**
   * What `data` holds: camera counts or reflectance; absent when the source does not state it
   * (then no model's radiometry is enforced against it, see `checkFrameMatchesInput`).
   */
  readonly radiometry?: Radiometry;
  /**
   * True when the in-process source built `data` so that every value is finite (integer camera
   * counts, with finite reflectance gains): {@link validateFrame} then skips its O(values) NaN/Inf
   * scan (6.7 ms for a 32 x 1024 x 224 block here). Never read from the wire: decoders leave it out.
   */
  readonly finite?: true;
  /**
   * Where the source put its foreign bodies in this block, when it knows (the simulator): for
   * measuring false alarms and recall online (`TruthTally`). No stage reads it to decide; it
   * travels with the frame's identity to the decision. Never sent on the wire.
   */
  readonly truth?: BlockTruth;
  /**
   * Hands `data`'s buffer back to the source's pool (`FrameBufferPool.lend`) when nothing reads
   * it any more; absent when the frame owns its data. Called once, by the frame's last holder
   * (see above; later calls do nothing). It travels with the frame's identity through scoring,
   * thresholding and decision; a copy with data of its own ({@link sliceRows}) leaves it out.
   */
  readonly release?: () => void;
  /**
   * Acknowledges the frame's message to its broker (a JetStream source's explicit ack), so the
   * broker never delivers it again; absent when the source has nothing to acknowledge. Called by
   * the service once, after the frame's decision was delivered by every sink, or after the frame
   * left the pipeline undecided and its `unknown` decision was delivered (or, when none can be
   * made, once it was dead-lettered); never before, so a frame whose decision did not get out is
   * delivered again (at least once, end to end). Decoders never set it: the source adds it to the
   * decoded frame. Like `release`, it travels with the frame's identity through scoring,
   * thresholding and decision; later calls do nothing.
   */
  readonly ack?: () => void;
}

/** Fields needed to build a frame; everything with a sensible default is optional. */
export interface CubeFrameInit {
  cameraId?: string;
  frameId?: number;
  rowOffset?: number;
  totalRows?: number;
  capturedAt?: number;
  timings?: Record<string, number>;
  height: number;
  width: number;
  bands: number;
  /** Defaults to band indices `0..bands-1` with units `index`. */
  wavelengths?: Float32Array | readonly number[];
  /** Defaults to `nm` when wavelengths are given, else `index`. */
  wavelengthUnits?: WavelengthUnits;
  data: Float32Array;
  labels?: Uint8Array;
  /** Counts or reflectance; left out when not stated. */
  radiometry?: Radiometry;
  /** Hands `data` back to the pool it was lent from (see {@link CubeFrame.release}). */
  release?: () => void;
}

/** Bounds that {@link validateFrame} enforces. */
export interface FrameLimits {
  /** Largest `height * width * bands` accepted (default 2^28 values = 1 GiB of float32). */
  maxValues?: number;
  /** Scan the data for NaN and ±Infinity (default true; O(values)). */
  checkFinite?: boolean;
}

/** Default upper bound on `height * width * bands` for one frame: 2^28 values (1 GiB of float32). */
export const DEFAULT_MAX_FRAME_VALUES = 2 ** 28;

/** Camera id used when a source does not name one. */
export const DEFAULT_CAMERA_ID = 'cam0';

function requirePositiveInt(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidFrameError('shape', field, value, 'must be a positive integer');
  }
  return value;
}

function requireNonNegativeInt(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidFrameError('metadata', field, value, 'must be a non-negative integer');
  }
  return value;
}

/**
 * Checks that the geometry `height x width x bands` is well formed and within `maxValues`,
 * before any buffer of that size is allocated. Use it on untrusted headers (wire, files).
 *
 * @throws {@link InvalidFrameError} with reason `shape` or `size`
 */
export function validateGeometry(
  height: unknown,
  width: unknown,
  bands: unknown,
  maxValues: number = DEFAULT_MAX_FRAME_VALUES,
): void {
  const h = requirePositiveInt('height', height);
  const w = requirePositiveInt('width', width);
  const b = requirePositiveInt('bands', bands);
  const values = h * w * b;
  if (values > maxValues) {
    throw new InvalidFrameError(
      'size',
      'height*width*bands',
      `${h}x${w}x${b} = ${values}`,
      `exceeds the limit of ${maxValues} values per frame`,
    );
  }
}

/**
 * The one place that checks a frame's shape (docs/architecture.md §2). Returns the frame unchanged when valid.
 *
 * @throws {@link InvalidFrameError} naming the field and value at fault
 * @example
 * ```ts
 * declare const candidate: CubeFrame; // e.g. decoded from a broker message
 * const frame = validateFrame(candidate, { maxValues: 64 * 1024 * 224 });
 * ```
 */
export function validateFrame(frame: CubeFrame, limits: FrameLimits = {}): CubeFrame {
  if (!isCameraId(frame.cameraId)) {
    throw new InvalidFrameError('metadata', 'cameraId', frame.cameraId, CAMERA_ID_RULE);
  }
  requireNonNegativeInt('frameId', frame.frameId);
  if (typeof frame.capturedAt !== 'number' || !Number.isFinite(frame.capturedAt)) {
    throw new InvalidFrameError(
      'metadata',
      'capturedAt',
      frame.capturedAt,
      'must be a finite epoch-ms number',
    );
  }
  validateGeometry(frame.height, frame.width, frame.bands, limits.maxValues ?? DEFAULT_MAX_FRAME_VALUES);
  const rowOffset = requireNonNegativeInt('rowOffset', frame.rowOffset);
  const totalRows = requirePositiveInt('totalRows', frame.totalRows);
  if (rowOffset + frame.height > totalRows) {
    throw new InvalidFrameError(
      'metadata',
      'rowOffset',
      rowOffset,
      `block rows ${rowOffset}..${rowOffset + frame.height - 1} exceed totalRows ${totalRows}`,
    );
  }
  const pixels = frame.height * frame.width;
  if (!(frame.data instanceof Float32Array)) {
    throw new InvalidFrameError('shape', 'data', frame.data, 'must be a Float32Array');
  }
  if (frame.data.length !== pixels * frame.bands) {
    throw new InvalidFrameError(
      'shape',
      'data',
      frame.data,
      `length must be height*width*bands = ${frame.height}*${frame.width}*${frame.bands} = ${pixels * frame.bands}`,
    );
  }
  if (!(frame.wavelengths instanceof Float32Array) || frame.wavelengths.length !== frame.bands) {
    throw new InvalidFrameError(
      'wavelengths',
      'wavelengths',
      frame.wavelengths,
      `must be a Float32Array of ${frame.bands} values`,
    );
  }
  for (let i = 0; i < frame.wavelengths.length; i++) {
    const w = frame.wavelengths[i]!;
    if (!Number.isFinite(w))
      throw new InvalidFrameError('wavelengths', `wavelengths[${i}]`, w, 'must be finite');
  }
  if (frame.wavelengthUnits !== 'nm' && frame.wavelengthUnits !== 'index') {
    throw new InvalidFrameError(
      'wavelengths',
      'wavelengthUnits',
      frame.wavelengthUnits,
      'must be "nm" or "index"',
    );
  }
  if (frame.radiometry !== undefined && !isRadiometry(frame.radiometry)) {
    throw new InvalidFrameError(
      'metadata',
      'radiometry',
      frame.radiometry,
      `must be ${RADIOMETRIES.map((r) => `"${r}"`).join(' or ')} (or absent)`,
    );
  }
  if (
    frame.labels !== undefined &&
    (!(frame.labels instanceof Uint8Array) || frame.labels.length !== pixels)
  ) {
    throw new InvalidFrameError(
      'labels',
      'labels',
      frame.labels,
      `must be a Uint8Array of height*width = ${pixels}`,
    );
  }
  if ((limits.checkFinite ?? true) && frame.finite !== true) {
    const bad = firstNonFinite(frame.data);
    if (bad >= 0) {
      const pixel = Math.floor(bad / frame.bands);
      throw new InvalidFrameError(
        'nonfinite',
        `data[pixel ${pixel} (row ${Math.floor(pixel / frame.width)}, col ${pixel % frame.width}), band ${bad % frame.bands}]`,
        frame.data[bad],
        'must be finite',
      );
    }
  }
  return frame;
}

/** Index of the first NaN or ±Infinity in `values`, or -1 when all are finite. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // v - v is NaN exactly for NaN and ±Infinity; cheaper than Number.isFinite in a hot loop.
    // biome-ignore lint/suspicious/noSelfCompare: NaN check
    if (v - v !== v - v) return i;
  }
  return -1;
}

/** Band indices `0..bands-1` as wavelengths, for sensors that do not report them. */
export function bandIndexWavelengths(bands: number): Float32Array {
  const w = new Float32Array(bands);
  for (let i = 0; i < bands; i++) w[i] = i;
  return w;
}

/**
 * Builds and validates a frame, filling defaults: camera `cam0`, frame 0, a whole cube
 * (`rowOffset` 0, `totalRows` = `height`), `capturedAt` now, band-index wavelengths.
 *
 * @throws {@link InvalidFrameError} when the result is not a valid frame
 * @example
 * ```ts
 * const frame = createFrame({ height: 2, width: 3, bands: 4, data: new Float32Array(24) });
 * ```
 */
export function createFrame(init: CubeFrameInit, limits?: FrameLimits): CubeFrame {
  const wavelengths =
    init.wavelengths === undefined
      ? bandIndexWavelengths(init.bands)
      : init.wavelengths instanceof Float32Array
        ? init.wavelengths
        : Float32Array.from(init.wavelengths);
  const frame: CubeFrame = {
    cameraId: init.cameraId ?? DEFAULT_CAMERA_ID,
    frameId: init.frameId ?? 0,
    rowOffset: init.rowOffset ?? 0,
    totalRows: init.totalRows ?? (init.rowOffset ?? 0) + init.height,
    capturedAt: init.capturedAt ?? Date.now(),
    timings: init.timings ?? {},
    height: init.height,
    width: init.width,
    bands: init.bands,
    wavelengths,
    wavelengthUnits: init.wavelengthUnits ?? (init.wavelengths === undefined ? 'index' : 'nm'),
    data: init.data,
    ...(init.labels === undefined ? {} : { labels: init.labels }),
    ...(init.radiometry === undefined ? {} : { radiometry: init.radiometry }),
    ...(init.release === undefined ? {} : { release: init.release }),
  };
  return validateFrame(frame, limits);
}

/** Number of pixels (`height * width`) in a frame or block. */
export function pixelCount(frame: Pick<CubeFrame, 'height' | 'width'>): number {
  return frame.height * frame.width;
}

/** Whether this block is the last one of its frame (`rowOffset + height === totalRows`). */
export function isLastBlock(frame: Pick<CubeFrame, 'rowOffset' | 'height' | 'totalRows'>): boolean {
  return frame.rowOffset + frame.height === frame.totalRows;
}

/** Returns a copy of `frame` with `timings[stage]` set to `at` (default now). */
export function stampFrame<F extends CubeFrame>(frame: F, stage: string, at: number = Date.now()): F {
  return { ...frame, timings: { ...frame.timings, [stage]: at } };
}

/**
 * Cuts rows `[start, start + rows)` of a frame into a new block sharing no memory with it.
 * `rowOffset` is relative to the whole frame, so cutting a block of a block keeps positions right.
 *
 * @throws {@link InvalidFrameError} when the row range is outside the frame
 */
export function sliceRows(frame: CubeFrame, start: number, rows: number): CubeFrame {
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(rows) ||
    start < 0 ||
    rows <= 0 ||
    start + rows > frame.height
  ) {
    throw new InvalidFrameError(
      'shape',
      'rows',
      `${start}+${rows}`,
      `must lie within the ${frame.height} rows of the frame`,
    );
  }
  const stride = frame.width * frame.bands;
  const pixelsPerRow = frame.width;
  // The block owns its copy: the parent's `release` stays with the parent.
  const { release: _release, ...parent } = frame;
  return {
    ...parent,
    rowOffset: frame.rowOffset + start,
    height: rows,
    data: frame.data.slice(start * stride, (start + rows) * stride),
    ...(frame.labels === undefined
      ? {}
      : { labels: frame.labels.slice(start * pixelsPerRow, (start + rows) * pixelsPerRow) }),
  };
}
