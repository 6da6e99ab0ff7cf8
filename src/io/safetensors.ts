import { CubestreamError } from '../core/errors.js';

/** Element types of the safetensors format that cubestream reads and writes. */
export type SafetensorsDtype =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'U16'
  | 'I16'
  | 'U32'
  | 'I32'
  | 'U64'
  | 'I64'
  | 'F16'
  | 'BF16'
  | 'F32'
  | 'F64';

/** Typed array holding a tensor's elements. F16/BF16 are kept as raw `Uint16Array` bits. */
export type SafetensorsData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** One tensor: its dtype, shape (row-major) and elements. */
export interface SafeTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: SafetensorsData;
}

/** A decoded safetensors file: named tensors plus the `__metadata__` string map. */
export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, SafeTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** A tensor's entry in the header: what {@link SafetensorsDecodeOptions.checkEntry} sees. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
}

/** Options for {@link decodeSafetensors}. */
export interface SafetensorsDecodeOptions {
  /** Largest JSON header accepted (default 16 MiB; the reference implementation uses 100 MB). */
  maxHeaderBytes?: number;
  /**
   * Called with each tensor entry once the header is checked, before any tensor data is copied:
   * throw to refuse the file (e.g. a shape larger than the caller accepts), so that nothing is
   * allocated for it.
   */
  checkEntry?: (entry: SafetensorsEntry) => void;
  /** Copy out only these tensors (the others are still checked, then skipped); default all. */
  only?: readonly string[];
}

/**
 * A safetensors byte string that is malformed: bad header length, bad JSON, unknown dtype,
 * offsets that overlap, leave gaps or point past the buffer, or a shape that does not match
 * the byte count. The message names the tensor and the numbers at fault.
 */
export class SafetensorsError extends CubestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('decode', `safetensors: ${message}`, options);
  }
}

const BYTES_PER_ELEMENT: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  U16: 2,
  I16: 2,
  U32: 4,
  I32: 4,
  U64: 8,
  I64: 8,
  F16: 2,
  BF16: 2,
  F32: 4,
  F64: 8,
};

/** Size in bytes of one element of `dtype`. */
export function dtypeBytes(dtype: SafetensorsDtype): number {
  return BYTES_PER_ELEMENT[dtype];
}

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(BYTES_PER_ELEMENT, value);
}

function viewAs(
  dtype: SafetensorsDtype,
  buffer: ArrayBuffer,
  byteOffset: number,
  length: number,
): SafetensorsData {
  switch (dtype) {
    case 'BOOL':
    case 'U8':
      return new Uint8Array(buffer, byteOffset, length);
    case 'I8':
      return new Int8Array(buffer, byteOffset, length);
    case 'U16':
    case 'F16':
    case 'BF16':
      return new Uint16Array(buffer, byteOffset, length);
    case 'I16':
      return new Int16Array(buffer, byteOffset, length);
    case 'U32':
      return new Uint32Array(buffer, byteOffset, length);
    case 'I32':
      return new Int32Array(buffer, byteOffset, length);
    case 'U64':
      return new BigUint64Array(buffer, byteOffset, length);
    case 'I64':
      return new BigInt64Array(buffer, byteOffset, length);
    case 'F32':
      return new Float32Array(buffer, byteOffset, length);
    case 'F64':
      return new Float64Array(buffer, byteOffset, length);
  }
}

function render(value: unknown, depth: number): string {
  if (Array.isArray(value)) {
    if (depth >= 2) return value.length === 0 ? '[]' : '[...]';
    const items = value.slice(0, 8).map((item: unknown) => render(item, depth + 1));
    return `[${items.join(',')}${value.length > 8 ? `,... (${value.length} items)` : ''}]`;
  }
  if (typeof value === 'object' && value !== null) return '{...}';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  return String(value);
}

/**
 * Renders a header value (a shape, a dtype) for an error message: short, and safe on hostile
 * JSON, where `JSON.stringify` of a shape nested thousands of arrays deep overflows the stack.
 *
 * @example
 * ```ts
 * renderHeaderValue([2, 3, 4]); // '[2,3,4]'
 * ```
 */
export function renderHeaderValue(value: unknown): string {
  return render(value, 0);
}

function elementCount(name: string, shape: unknown): number {
  if (!Array.isArray(shape)) throw new SafetensorsError(`tensor "${name}": shape must be an array`);
  let count = 1;
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new SafetensorsError(
        `tensor "${name}": shape ${renderHeaderValue(shape)} has a dimension that is not a non-negative integer`,
      );
    }
    count *= dim;
  }
  if (!Number.isSafeInteger(count))
    throw new SafetensorsError(`tensor "${name}": shape ${renderHeaderValue(shape)} is too large`);
  return count;
}

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, raw: unknown, dataBytes: number): HeaderEntry {
  if (typeof raw !== 'object' || raw === null)
    throw new SafetensorsError(`tensor "${name}": entry must be an object`);
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (!isDtype(dtype))
    throw new SafetensorsError(`tensor "${name}": unsupported dtype ${renderHeaderValue(dtype)}`);
  const count = elementCount(name, shape);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
  ) {
    throw new SafetensorsError(`tensor "${name}": data_offsets must be two non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin)
    throw new SafetensorsError(`tensor "${name}": data_offsets [${begin}, ${end}] end before begin`);
  if (end > dataBytes) {
    throw new SafetensorsError(
      `tensor "${name}": data_offsets [${begin}, ${end}] point past the ${dataBytes}-byte data buffer`,
    );
  }
  const expected = count * BYTES_PER_ELEMENT[dtype];
  if (end - begin !== expected) {
    throw new SafetensorsError(
      `tensor "${name}": shape ${renderHeaderValue(shape)} of ${dtype} needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/**
 * Decodes and validates a safetensors byte string: header length, JSON, dtypes, shapes against
 * byte counts, offsets in bounds, no overlaps and no gaps. Tensor data is copied out, so the
 * result does not alias `bytes`.
 *
 * @throws {@link SafetensorsError} naming the problem
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * const file = decodeSafetensors(readFileSync('weights.safetensors'));
 * const w1 = toFloat32(file.tensors.get('project.W1')!);
 * ```
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  options: SafetensorsDecodeOptions = {},
): SafetensorsFile {
  const maxHeader = options.maxHeaderBytes ?? 16 * 1024 * 1024;
  if (bytes.byteLength < 8) {
    throw new SafetensorsError(`${bytes.byteLength} bytes is too short for the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.byteLength - 8)) {
    throw new SafetensorsError(
      `header length ${headerLength} exceeds the ${bytes.byteLength - 8} bytes that follow it`,
    );
  }
  if (headerLength > BigInt(maxHeader)) {
    throw new SafetensorsError(`header length ${headerLength} exceeds the limit of ${maxHeader} bytes`);
  }
  const n = Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (cause) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON (${(cause as Error).message})`, { cause });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError('header must be a JSON object');
  }
  const dataStart = 8 + n;
  const dataBytes = bytes.byteLength - dataStart;
  // No prototype: a `__metadata__` key named "__proto__" is kept like any other.
  const metadata: Record<string, string> = Object.create(null);
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new SafetensorsError('__metadata__ must be an object of strings');
      }
      for (const [key, value] of Object.entries(raw)) {
        if (typeof value !== 'string')
          throw new SafetensorsError(`__metadata__.${key} must be a string, got ${typeof value}`);
        metadata[key] = value;
      }
      continue;
    }
    entries.push(parseEntry(name, raw, dataBytes));
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const entry of sorted) {
    if (entry.begin < cursor) {
      throw new SafetensorsError(
        `tensor "${entry.name}": data_offsets [${entry.begin}, ${entry.end}] overlap the previous tensor (ends at ${cursor})`,
      );
    }
    if (entry.begin > cursor) {
      throw new SafetensorsError(
        `tensor "${entry.name}": gap of ${entry.begin - cursor} bytes before data_offsets [${entry.begin}, ${entry.end}]`,
      );
    }
    cursor = entry.end;
  }
  if (cursor !== dataBytes) {
    throw new SafetensorsError(`tensors cover ${cursor} bytes but the data buffer holds ${dataBytes}`);
  }
  if (options.checkEntry !== undefined) for (const entry of entries) options.checkEntry(entry);
  const wanted = options.only === undefined ? undefined : new Set(options.only);
  const tensors = new Map<string, SafeTensor>();
  for (const entry of entries) {
    if (wanted !== undefined && !wanted.has(entry.name)) continue;
    const size = entry.end - entry.begin;
    const copy = new ArrayBuffer(size);
    new Uint8Array(copy).set(bytes.subarray(dataStart + entry.begin, dataStart + entry.end));
    const length = size / BYTES_PER_ELEMENT[entry.dtype];
    tensors.set(entry.name, {
      dtype: entry.dtype,
      shape: entry.shape,
      data: viewAs(entry.dtype, copy, 0, length),
    });
  }
  return { tensors, metadata };
}

function dataMatchesDtype(dtype: SafetensorsDtype, data: SafetensorsData): boolean {
  return viewAs(dtype, new ArrayBuffer(0), 0, 0).constructor === data.constructor;
}

/**
 * Encodes tensors (written in name order, 8-byte aligned) and string metadata as safetensors.
 *
 * @throws {@link SafetensorsError} when a tensor's data does not match its dtype or shape
 * @example
 * ```ts
 * const data = new Float32Array(2 * 3 * 4);
 * const bytes = encodeSafetensors({ cube: { dtype: 'F32', shape: [2, 3, 4], data } }, { camera_id: 'cam0' });
 * ```
 */
export function encodeSafetensors(
  tensors: Readonly<Record<string, SafeTensor>> | ReadonlyMap<string, SafeTensor>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const list = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)) as [
    string,
    SafeTensor,
  ][];
  list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, tensor] of list) {
    if (name === '__metadata__')
      throw new SafetensorsError('"__metadata__" is reserved and cannot name a tensor');
    if (!isDtype(tensor.dtype))
      throw new SafetensorsError(`tensor "${name}": unsupported dtype ${renderHeaderValue(tensor.dtype)}`);
    if (!dataMatchesDtype(tensor.dtype, tensor.data)) {
      throw new SafetensorsError(
        `tensor "${name}": ${tensor.data.constructor.name} does not hold ${tensor.dtype}`,
      );
    }
    const count = elementCount(name, tensor.shape);
    if (count !== tensor.data.length) {
      throw new SafetensorsError(
        `tensor "${name}": shape ${renderHeaderValue(tensor.shape)} has ${count} elements but data holds ${tensor.data.length}`,
      );
    }
    const size = tensor.data.byteLength;
    header[name] = { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  let headerBytes = encoder.encode(json);
  const padded = Math.ceil((8 + headerBytes.byteLength) / 8) * 8 - 8;
  json += ' '.repeat(padded - headerBytes.byteLength);
  headerBytes = encoder.encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let cursor = 8 + headerBytes.byteLength;
  for (const [, tensor] of list) {
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), cursor);
    cursor += tensor.data.byteLength;
  }
  return out;
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * Converts any numeric tensor to a new Float32Array (F16 and BF16 bits are decoded;
 * 64-bit integers must fit in a double exactly or lose precision).
 */
export function toFloat32(tensor: SafeTensor): Float32Array {
  const { dtype, data } = tensor;
  const out = new Float32Array(data.length);
  if (dtype === 'F16') {
    for (let i = 0; i < data.length; i++) out[i] = halfToFloat(data[i] as number);
  } else if (dtype === 'BF16') {
    const word = new Uint32Array(out.buffer);
    for (let i = 0; i < data.length; i++) word[i] = (data[i] as number) << 16;
  } else if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  } else {
    out.set(data);
  }
  return out;
}

/** Converts any numeric tensor to a new Float64Array (see {@link toFloat32}). */
export function toFloat64(tensor: SafeTensor): Float64Array {
  if (tensor.data instanceof Float64Array) return Float64Array.from(tensor.data);
  if (tensor.dtype === 'F16' || tensor.dtype === 'BF16') return Float64Array.from(toFloat32(tensor));
  const data = tensor.data;
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}
