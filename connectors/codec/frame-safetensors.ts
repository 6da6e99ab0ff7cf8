import {
  type CubeFrame,
  DEFAULT_MAX_FRAME_VALUES,
  InvalidFrameError,
  isRadiometry,
  RADIOMETRIES,
  validateFrame,
  validateGeometry,
  type WavelengthUnits,
} from '../../src/core/frame.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  renderHeaderValue,
  type SafeTensor,
  type SafetensorsEntry,
  SafetensorsError,
  toFloat32,
} from '../../src/io/safetensors.js';

/** Cube element types accepted on the wire (docs/wire-format.md §1). */
export type WireCubeDtype = 'U8' | 'U16' | 'I16' | 'F32' | 'F64';

const WIRE_DTYPES: readonly WireCubeDtype[] = ['U8', 'U16', 'I16', 'F32', 'F64'];

/** Options for {@link decodeFrameMessage}. */
export interface DecodeFrameOptions {
  /** Largest `H * W * C` accepted (default {@link DEFAULT_MAX_FRAME_VALUES}). */
  maxValues?: number;
  /** Camera id to use when the message has no `camera_id` (e.g. taken from the topic). */
  cameraId?: string;
  /** Capture time when the message has no `captured_at` (default now). */
  now?: () => number;
}

/** Options for {@link encodeFrameMessage}. */
export interface EncodeFrameOptions {
  /** Element type of the `cube` tensor (default F32; U16 halves the bytes of 12/16-bit sensors). */
  dtype?: WireCubeDtype;
}

function metadataInt(metadata: Readonly<Record<string, string>>, key: string, fallback?: number): number {
  const raw = metadata[key];
  if (raw === undefined) {
    if (fallback === undefined)
      throw new InvalidFrameError('decode', `__metadata__.${key}`, raw, 'is required');
    return fallback;
  }
  const value = Number(raw);
  if (!/^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/.test(raw) || !Number.isFinite(value)) {
    throw new InvalidFrameError('decode', `__metadata__.${key}`, raw, 'must be a number');
  }
  return value;
}

function requireTensor(tensors: ReadonlyMap<string, SafeTensor>, name: string): SafeTensor {
  const tensor = tensors.get(name);
  if (tensor === undefined) {
    throw new InvalidFrameError('decode', name, undefined, `tensor "${name}" is missing from the message`);
  }
  return tensor;
}

/** The tensors a frame message is made of; any other tensor is checked, then skipped. */
const FRAME_TENSORS: readonly string[] = ['cube', 'wavelengths', 'labels'];

function elements(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** Checks a tensor's header entry before its data are copied: nothing beyond `maxValues`. */
function checkFrameTensor(entry: SafetensorsEntry, maxValues: number): void {
  if (entry.name === 'cube') {
    if (!(WIRE_DTYPES as readonly string[]).includes(entry.dtype)) {
      throw new InvalidFrameError(
        'decode',
        'cube.dtype',
        entry.dtype,
        `must be one of ${WIRE_DTYPES.join(', ')}`,
      );
    }
    if (entry.shape.length !== 3) {
      throw new InvalidFrameError(
        'shape',
        'cube.shape',
        renderHeaderValue(entry.shape),
        'must be [height, width, bands]',
      );
    }
    const [height, width, bands] = entry.shape as [number, number, number];
    validateGeometry(height, width, bands, maxValues);
  } else if ((entry.name === 'wavelengths' || entry.name === 'labels') && elements(entry.shape) > maxValues) {
    throw new InvalidFrameError(
      entry.name,
      entry.name,
      renderHeaderValue(entry.shape),
      `holds more values than the ${maxValues} a frame may have`,
    );
  }
}

/**
 * Decodes one frame message (docs/wire-format.md §1): a safetensors file with tensor `cube` [H, W, C]
 * (U8, U16, I16, F32 or F64), `wavelengths` F32 [C], optional `labels` U8 [H, W], and
 * `__metadata__` strings `camera_id`, `frame_id`, `captured_at`, optional `row_offset`,
 * `total_rows`, `wavelength_units` (`nm` default, or `index`), `radiometry` (`counts` or
 * `reflectance`; absent: not stated). The geometry is checked against
 * `maxValues` before any conversion, and the frame is validated (NaN/Inf rejected).
 *
 * @throws {@link InvalidFrameError} (reason `decode`, `shape`, `size`, `wavelengths`, `nonfinite`…)
 * @example
 * ```ts
 * import type { NatsConnection } from '@nats-io/transport-node';
 * import type { CubeFrame } from 'cubestream';
 * import { Subject } from 'rxjs';
 * declare const nc: NatsConnection;
 * const frames = new Subject<CubeFrame>();
 * nc.subscribe('cubestream.frames.*', { callback: (_e, msg) => frames.next(decodeFrameMessage(msg.data)) });
 * ```
 */
export function decodeFrameMessage(bytes: Uint8Array, options: DecodeFrameOptions = {}): CubeFrame {
  const maxValues = options.maxValues ?? DEFAULT_MAX_FRAME_VALUES;
  let file: ReturnType<typeof decodeSafetensors>;
  try {
    file = decodeSafetensors(bytes, {
      only: FRAME_TENSORS,
      // Refuse a cube larger than maxValues from the header, before its data are copied.
      checkEntry: (entry) => checkFrameTensor(entry, maxValues),
    });
  } catch (cause) {
    if (cause instanceof SafetensorsError) {
      throw new InvalidFrameError('decode', 'message', `${bytes.byteLength} bytes`, cause.message, { cause });
    }
    throw cause;
  }
  const cube = requireTensor(file.tensors, 'cube');
  const [height, width, bands] = cube.shape as [number, number, number];
  const wavelengthTensor = requireTensor(file.tensors, 'wavelengths');
  if (wavelengthTensor.data.length !== bands) {
    throw new InvalidFrameError(
      'wavelengths',
      'wavelengths',
      wavelengthTensor.data,
      `must hold one value per band (${bands})`,
    );
  }
  const labelsTensor = file.tensors.get('labels');
  let labels: Uint8Array | undefined;
  if (labelsTensor !== undefined) {
    if (labelsTensor.dtype !== 'U8' || labelsTensor.data.length !== height * width) {
      throw new InvalidFrameError('labels', 'labels', labelsTensor.data, `must be U8 [${height}, ${width}]`);
    }
    labels = labelsTensor.data as Uint8Array;
  }
  const { metadata } = file;
  const units = metadata.wavelength_units ?? 'nm';
  if (units !== 'nm' && units !== 'index') {
    throw new InvalidFrameError(
      'wavelengths',
      '__metadata__.wavelength_units',
      units,
      'must be "nm" or "index"',
    );
  }
  const radiometry = metadata.radiometry;
  if (radiometry !== undefined && !isRadiometry(radiometry)) {
    throw new InvalidFrameError(
      'metadata',
      '__metadata__.radiometry',
      radiometry,
      `must be ${RADIOMETRIES.map((r) => `"${r}"`).join(' or ')} (or absent)`,
    );
  }
  const cameraId = metadata.camera_id ?? options.cameraId;
  if (cameraId === undefined)
    throw new InvalidFrameError('decode', '__metadata__.camera_id', undefined, 'is required');
  const rowOffset = metadataInt(metadata, 'row_offset', 0);
  const frame: CubeFrame = {
    cameraId,
    frameId: metadataInt(metadata, 'frame_id'),
    rowOffset,
    totalRows: metadataInt(metadata, 'total_rows', rowOffset + height),
    capturedAt: metadataInt(metadata, 'captured_at', (options.now ?? Date.now)()),
    timings: {},
    height,
    width,
    bands,
    wavelengths: toFloat32(wavelengthTensor),
    wavelengthUnits: units as WavelengthUnits,
    data: cube.dtype === 'F32' ? (cube.data as Float32Array) : toFloat32(cube),
    ...(labels === undefined ? {} : { labels }),
    ...(radiometry === undefined ? {} : { radiometry }),
  };
  return validateFrame(frame, { maxValues });
}

function castCube(data: Float32Array, dtype: WireCubeDtype): SafeTensor['data'] {
  switch (dtype) {
    case 'F32':
      return data;
    case 'F64':
      return Float64Array.from(data);
    case 'U8':
      return Uint8Array.from(data, (v) => Math.min(255, Math.max(0, Math.round(v))));
    case 'U16':
      return Uint16Array.from(data, (v) => Math.min(65535, Math.max(0, Math.round(v))));
    case 'I16':
      return Int16Array.from(data, (v) => Math.min(32767, Math.max(-32768, Math.round(v))));
  }
}

/**
 * Encodes a frame as the safetensors message of docs/wire-format.md §1 (what a camera gateway publishes).
 * Integer dtypes round and clamp. `radiometry` is written only when the frame states it.
 *
 * @example
 * ```ts
 * import mqtt from 'mqtt';
 * const client = mqtt.connect('mqtt://127.0.0.1:1883');
 * client.publish(`cubestream/${frame.cameraId}/frames`, Buffer.from(encodeFrameMessage(frame, { dtype: 'U16' })));
 * ```
 */
export function encodeFrameMessage(frame: CubeFrame, options: EncodeFrameOptions = {}): Uint8Array {
  const dtype = options.dtype ?? 'F32';
  const tensors: Record<string, SafeTensor> = {
    cube: { dtype, shape: [frame.height, frame.width, frame.bands], data: castCube(frame.data, dtype) },
    wavelengths: { dtype: 'F32', shape: [frame.bands], data: frame.wavelengths },
  };
  if (frame.labels !== undefined)
    tensors.labels = { dtype: 'U8', shape: [frame.height, frame.width], data: frame.labels };
  const metadata: Record<string, string> = {
    camera_id: frame.cameraId,
    frame_id: String(frame.frameId),
    captured_at: String(frame.capturedAt),
    row_offset: String(frame.rowOffset),
    total_rows: String(frame.totalRows),
    wavelength_units: frame.wavelengthUnits,
  };
  if (frame.radiometry !== undefined) metadata.radiometry = frame.radiometry;
  return encodeSafetensors(tensors, metadata);
}
