/** ENVI `data type` codes cubestream reads: 1 u8, 2 i16, 3 i32, 4 f32, 5 f64, 12 u16, 13 u32, 14 i64, 15 u64. */
export type EnviDataType = 1 | 2 | 3 | 4 | 5 | 12 | 13 | 14 | 15;

/** Typed-array constructors usable as zero-copy views of native-endian element bytes. */
type NumericArrayConstructor =
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor;

/** How one ENVI element type is stored and converted. */
export interface EnviDtype {
  /** The ENVI `data type` code. */
  readonly code: EnviDataType;
  /** Short name, e.g. `uint16`. */
  readonly name: string;
  /** Bytes per element. */
  readonly bytes: number;
  /** Whether the type holds integers (writers round and clamp to `[min, max]`). */
  readonly integer: boolean;
  /** Smallest representable value (as a double). */
  readonly min: number;
  /** Largest representable value (as a double). */
  readonly max: number;
  /** Typed array that views native-endian elements directly; absent for 64-bit integers. */
  readonly view?: NumericArrayConstructor;
  /** Reads one element at `offset` of `view`. */
  get(view: DataView, offset: number, littleEndian: boolean): number;
  /** Writes one element (already rounded/clamped for integer types) at `offset` of `view`. */
  set(view: DataView, offset: number, value: number, littleEndian: boolean): void;
}

const TABLE: Readonly<Record<EnviDataType, EnviDtype>> = {
  1: {
    code: 1,
    name: 'uint8',
    bytes: 1,
    integer: true,
    min: 0,
    max: 255,
    view: Uint8Array,
    get: (v, o) => v.getUint8(o),
    set: (v, o, x) => v.setUint8(o, x),
  },
  2: {
    code: 2,
    name: 'int16',
    bytes: 2,
    integer: true,
    min: -32768,
    max: 32767,
    view: Int16Array,
    get: (v, o, le) => v.getInt16(o, le),
    set: (v, o, x, le) => v.setInt16(o, x, le),
  },
  3: {
    code: 3,
    name: 'int32',
    bytes: 4,
    integer: true,
    min: -2147483648,
    max: 2147483647,
    view: Int32Array,
    get: (v, o, le) => v.getInt32(o, le),
    set: (v, o, x, le) => v.setInt32(o, x, le),
  },
  4: {
    code: 4,
    name: 'float32',
    bytes: 4,
    integer: false,
    min: -3.4028234663852886e38,
    max: 3.4028234663852886e38,
    view: Float32Array,
    get: (v, o, le) => v.getFloat32(o, le),
    set: (v, o, x, le) => v.setFloat32(o, x, le),
  },
  5: {
    code: 5,
    name: 'float64',
    bytes: 8,
    integer: false,
    min: -Number.MAX_VALUE,
    max: Number.MAX_VALUE,
    view: Float64Array,
    get: (v, o, le) => v.getFloat64(o, le),
    set: (v, o, x, le) => v.setFloat64(o, x, le),
  },
  12: {
    code: 12,
    name: 'uint16',
    bytes: 2,
    integer: true,
    min: 0,
    max: 65535,
    view: Uint16Array,
    get: (v, o, le) => v.getUint16(o, le),
    set: (v, o, x, le) => v.setUint16(o, x, le),
  },
  13: {
    code: 13,
    name: 'uint32',
    bytes: 4,
    integer: true,
    min: 0,
    max: 4294967295,
    view: Uint32Array,
    get: (v, o, le) => v.getUint32(o, le),
    set: (v, o, x, le) => v.setUint32(o, x, le),
  },
  14: {
    code: 14,
    name: 'int64',
    bytes: 8,
    integer: true,
    min: -(2 ** 63),
    max: 2 ** 63 - 1,
    get: (v, o, le) => Number(v.getBigInt64(o, le)),
    set: (v, o, x, le) => v.setBigInt64(o, BigInt(Math.min(Math.max(x, -(2 ** 63)), 2 ** 63 - 1024)), le),
  },
  15: {
    code: 15,
    name: 'uint64',
    bytes: 8,
    integer: true,
    min: 0,
    max: 2 ** 64 - 1,
    get: (v, o, le) => Number(v.getBigUint64(o, le)),
    set: (v, o, x, le) => v.setBigUint64(o, BigInt(Math.min(Math.max(x, 0), 2 ** 64 - 2048)), le),
  },
};

/** ENVI's complex types, recognised only to be refused with a clear message. */
export const ENVI_COMPLEX_TYPES: Readonly<Record<number, string>> = { 6: 'complex64', 9: 'complex128' };

/** Every supported ENVI data type code, ascending. */
export const ENVI_DATA_TYPES: readonly EnviDataType[] = [1, 2, 3, 4, 5, 12, 13, 14, 15];

/** Whether `code` is a supported ENVI data type. */
export function isEnviDataType(code: number): code is EnviDataType {
  return Object.hasOwn(TABLE, code);
}

/**
 * The storage description of an ENVI data type.
 *
 * @example
 * ```ts
 * enviDtype(12).bytes; // 2
 * enviDtype(12).name;  // 'uint16'
 * ```
 */
export function enviDtype(code: EnviDataType): EnviDtype {
  return TABLE[code];
}

/** Whether this machine stores multi-byte numbers little-endian (ENVI `byte order = 0`). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Converts a double to what an integer type can hold: rounded half away from zero, clamped to
 * `[min, max]`, NaN to 0. Float types are returned unchanged.
 */
export function toStorable(dtype: EnviDtype, value: number): number {
  if (!dtype.integer) return value;
  if (Number.isNaN(value)) return 0;
  const rounded = value < 0 ? -Math.round(-value) : Math.round(value);
  return Math.min(Math.max(rounded, dtype.min), dtype.max);
}
