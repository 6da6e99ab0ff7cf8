import { type EnviDtype, HOST_LITTLE_ENDIAN } from './data-types.js';
import type { EnviInterleave } from './header.js';

/**
 * Layout of a block of `rows` rows held in one buffer:
 * - `bip`: `[row][sample][band]`, `bil`: `[row][band][sample]` (both as in the file);
 * - `bsq`: `[band][row][sample]` (each band's row range read one after another).
 */
export interface BlockLayout {
  readonly interleave: EnviInterleave;
  readonly rows: number;
  readonly samples: number;
  readonly bands: number;
}

type NumberArray = { readonly length: number; [index: number]: number };

/** Pixels per tile of the band/pixel transposes: keeps both sides of the copy in cache. */
const TILE = 64;

/** Reverses the bytes of every `width`-byte element of `bytes`, in place. */
function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.byteLength; i += width) {
    for (let lo = i, hi = i + width - 1; lo < hi; lo++, hi--) {
      const t = bytes[lo] as number;
      bytes[lo] = bytes[hi] as number;
      bytes[hi] = t;
    }
  }
}

/**
 * Element values of `bytes` (swapped in place to host order first when needed), as a
 * zero-copy typed view where possible; 64-bit integers are converted to doubles.
 */
function elements(bytes: Uint8Array<ArrayBuffer>, dtype: EnviDtype, littleEndian: boolean): NumberArray {
  const count = bytes.byteLength / dtype.bytes;
  if (bytes.byteOffset % dtype.bytes !== 0) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Float64Array(count);
    for (let i = 0, o = 0; i < count; i++, o += dtype.bytes) out[i] = dtype.get(view, o, littleEndian);
    return out;
  }
  if (dtype.bytes > 1 && littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(bytes, dtype.bytes);
  if (dtype.view !== undefined) return new dtype.view(bytes.buffer, bytes.byteOffset, count);
  const wide =
    dtype.code === 14
      ? new BigInt64Array(bytes.buffer, bytes.byteOffset, count)
      : new BigUint64Array(bytes.buffer, bytes.byteOffset, count);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Number(wide[i]);
  return out;
}

/** `out[outAt + p * bands + b] = src[srcAt + b * pixels + p]`: band-major to pixel-major, tiled. */
function toPixelMajor(
  out: NumberArray,
  outAt: number,
  src: NumberArray,
  srcAt: number,
  bands: number,
  pixels: number,
): void {
  for (let p0 = 0; p0 < pixels; p0 += TILE) {
    const p1 = Math.min(p0 + TILE, pixels);
    for (let b = 0; b < bands; b++) {
      const plane = srcAt + b * pixels;
      for (let p = p0; p < p1; p++) out[outAt + p * bands + b] = src[plane + p] as number;
    }
  }
}

/** `out[outAt + b * pixels + p] = src[srcAt + p * bands + b]`: the inverse of {@link toPixelMajor}. */
function toBandMajor(
  out: NumberArray,
  outAt: number,
  src: NumberArray,
  srcAt: number,
  bands: number,
  pixels: number,
): void {
  for (let p0 = 0; p0 < pixels; p0 += TILE) {
    const p1 = Math.min(p0 + TILE, pixels);
    for (let b = 0; b < bands; b++) {
      const plane = outAt + b * pixels;
      for (let p = p0; p < p1; p++) out[plane + p] = src[srcAt + p * bands + b] as number;
    }
  }
}

/**
 * Converts a block's raw bytes (see {@link BlockLayout}) into BIP float32
 * `[rows * samples * bands]`, written into `into` when given (it must have that length), else a
 * new array. The bytes may be modified (byte swap in place); float32 BIP in host byte order is
 * returned without a copy when there is no `into`.
 */
export function decodeBlock(
  bytes: Uint8Array<ArrayBuffer>,
  dtype: EnviDtype,
  littleEndian: boolean,
  layout: BlockLayout,
  into?: Float32Array,
): Float32Array {
  const src = elements(bytes, dtype, littleEndian);
  const { rows, samples, bands } = layout;
  if (layout.interleave === 'bip' && src instanceof Float32Array && into === undefined) return src;
  const out = into ?? new Float32Array(rows * samples * bands);
  if (layout.interleave === 'bip') {
    out.set(src as ArrayLike<number>);
  } else if (layout.interleave === 'bil') {
    const stride = samples * bands;
    for (let r = 0; r < rows; r++) toPixelMajor(out, r * stride, src, r * stride, bands, samples);
  } else {
    toPixelMajor(out, 0, src, 0, bands, rows * samples);
  }
  return out;
}

/**
 * Converts BIP float32 rows into raw bytes in `layout` (integer types rounded half away from
 * zero and clamped, NaN to 0), the inverse of {@link decodeBlock}. Needs a type with a typed
 * array view (every type but the 64-bit integers).
 */
export function encodeBlock(
  data: Float32Array,
  dtype: EnviDtype,
  littleEndian: boolean,
  layout: BlockLayout,
): Uint8Array<ArrayBuffer> {
  const View = dtype.view;
  if (View === undefined) throw new TypeError(`cannot encode ENVI ${dtype.name}`);
  const { rows, samples, bands } = layout;
  const count = rows * samples * bands;
  // Values in the target type, still pixel-major.
  const bip = new View(count);
  if (dtype.integer) {
    const { min, max } = dtype;
    for (let i = 0; i < count; i++) {
      const v = data[i] as number;
      // toStorable inlined: round half away from zero, then clamp; NaN stays NaN, which an
      // integer typed array stores as 0.
      const r = v < 0 ? -Math.round(-v) : Math.round(v);
      bip[i] = Math.min(Math.max(r, min), max);
    }
  } else {
    bip.set(data.subarray(0, count));
  }
  let out = bip;
  if (layout.interleave !== 'bip') {
    out = new View(count);
    if (layout.interleave === 'bil') {
      const stride = samples * bands;
      for (let r = 0; r < rows; r++) toBandMajor(out, r * stride, bip, r * stride, bands, samples);
    } else {
      toBandMajor(out, 0, bip, 0, bands, rows * samples);
    }
  }
  return swapped(
    new Uint8Array(out.buffer, 0, out.byteLength) as Uint8Array<ArrayBuffer>,
    dtype,
    littleEndian,
  );
}

/** `bytes` in the requested byte order (swapped in place when it differs from the host's). */
function swapped(
  bytes: Uint8Array<ArrayBuffer>,
  dtype: EnviDtype,
  littleEndian: boolean,
): Uint8Array<ArrayBuffer> {
  if (dtype.bytes > 1 && littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(bytes, dtype.bytes);
  return bytes;
}
