/**
 * The monochrome GenICam pixel formats a line-scan source reads, as byte counts and unpackers
 * into 16-bit counts (docs: CAMERAS.md §5, PFNC):
 * - `Mono8`: one byte per pixel;
 * - `Mono10`, `Mono12`, `Mono16`: two bytes per pixel, little-endian, the value in the low bits;
 * - `Mono12Packed` (GigE Vision packing): two pixels in three bytes,
 *   `B0 = P0[11:4]`, `B1 = P1[3:0] << 4 | P0[3:0]`, `B2 = P1[11:4]`;
 * - `Mono12p` (PFNC, LSB first): `B0 = P0[7:0]`, `B1 = P1[3:0] << 4 | P0[11:8]`, `B2 = P1[11:4]`.
 *
 * The packing of the 12-bit formats runs across line ends; with an odd pixel count the last pixel
 * takes two bytes (its half of a triple), so a payload is `ceil(pixels * 1.5)` bytes.
 */
import { CubestreamError, describeValue } from '../../../src/core/errors.js';
import { InvalidFrameError } from '../../../src/core/frame.js';
import { PIXEL_FORMAT_NAMES, type PixelFormatName } from './camera-features.js';

/** A pixel format name this source cannot read (code `pixel_format`), e.g. `RGB8` from a colour camera. */
export class UnsupportedPixelFormatError extends CubestreamError {
  /** The name the camera reported or the configuration asked for. */
  readonly format: string;

  /** @param format - the pixel format name at fault */
  constructor(format: string) {
    super(
      'pixel_format',
      `pixel format ${describeValue(format)} is not supported: use one of ${PIXEL_FORMAT_NAMES.join(', ')}`,
    );
    this.format = format;
  }
}

type Unpacker = (bytes: Uint8Array, pixels: number, out: Uint16Array) => void;

/** Bytes per pixel, as a fraction `numerator / 2` (1.5 bytes = 3 halves). */
interface FormatSpec {
  readonly halfBytesPerPixel: 2 | 3 | 4;
  readonly unpack: Unpacker;
}

function unpackMono8(bytes: Uint8Array, pixels: number, out: Uint16Array): void {
  for (let i = 0; i < pixels; i++) out[i] = bytes[i]!;
}

/** Whether this host stores a Uint16Array little-endian (then a 16-bit payload is copied as it is). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function unpackLittleEndian16(bytes: Uint8Array, pixels: number, out: Uint16Array): void {
  if (HOST_LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) {
    out.set(new Uint16Array(bytes.buffer, bytes.byteOffset, pixels));
    return;
  }
  for (let i = 0, j = 0; i < pixels; i++, j += 2) out[i] = bytes[j]! | (bytes[j + 1]! << 8);
}

function unpackMono12Packed(bytes: Uint8Array, pixels: number, out: Uint16Array): void {
  const pairs = pixels >> 1;
  let j = 0;
  for (let p = 0; p < pairs; p++, j += 3) {
    const b1 = bytes[j + 1]!;
    out[2 * p] = (bytes[j]! << 4) | (b1 & 0x0f);
    out[2 * p + 1] = (bytes[j + 2]! << 4) | (b1 >> 4);
  }
  if (pixels & 1) out[pixels - 1] = (bytes[j]! << 4) | (bytes[j + 1]! & 0x0f);
}

function unpackMono12p(bytes: Uint8Array, pixels: number, out: Uint16Array): void {
  const pairs = pixels >> 1;
  let j = 0;
  for (let p = 0; p < pairs; p++, j += 3) {
    const b1 = bytes[j + 1]!;
    out[2 * p] = bytes[j]! | ((b1 & 0x0f) << 8);
    out[2 * p + 1] = (bytes[j + 2]! << 4) | (b1 >> 4);
  }
  if (pixels & 1) out[pixels - 1] = bytes[j]! | ((bytes[j + 1]! & 0x0f) << 8);
}

const FORMATS: Readonly<Record<PixelFormatName, FormatSpec>> = {
  Mono8: { halfBytesPerPixel: 2, unpack: unpackMono8 },
  Mono10: { halfBytesPerPixel: 4, unpack: unpackLittleEndian16 },
  Mono12: { halfBytesPerPixel: 4, unpack: unpackLittleEndian16 },
  Mono12Packed: { halfBytesPerPixel: 3, unpack: unpackMono12Packed },
  Mono12p: { halfBytesPerPixel: 3, unpack: unpackMono12p },
  Mono16: { halfBytesPerPixel: 4, unpack: unpackLittleEndian16 },
};

/** Whether `format` names a pixel format this source reads. */
export function isPixelFormatName(format: string): format is PixelFormatName {
  return Object.hasOwn(FORMATS, format);
}

/**
 * `format` as a {@link PixelFormatName}, for a camera's format checked once at open.
 *
 * @throws {@link UnsupportedPixelFormatError} naming it and the formats this source reads
 * @example
 * ```ts
 * requirePixelFormat('Mono12p'); // 'Mono12p'
 * ```
 */
export function requirePixelFormat(format: string): PixelFormatName {
  if (!isPixelFormatName(format)) throw new UnsupportedPixelFormatError(format);
  return format;
}

function spec(format: string): FormatSpec {
  return FORMATS[requirePixelFormat(format)];
}

/**
 * Bytes of `pixels` pixels in `format`: 1 or 2 per pixel, `ceil(pixels * 1.5)` for the packed
 * 12-bit formats.
 *
 * @throws {@link UnsupportedPixelFormatError} for a format name not in `PIXEL_FORMAT_NAMES`
 * @example
 * ```ts
 * payloadBytes('Mono16', 1024 * 224);   // 458752
 * payloadBytes('Mono12Packed', 5);      // 8
 * ```
 */
export function payloadBytes(format: string, pixels: number): number {
  return Math.ceil((pixels * spec(format).halfBytesPerPixel) / 2);
}

/**
 * Unpacks one camera buffer of `pixels` pixels into 16-bit counts in `out` (no allocation: the
 * caller reuses `out` line after line) and returns `out`. Values land in `out[0 .. pixels-1]`.
 *
 * @throws {@link UnsupportedPixelFormatError} for an unknown format name;
 *   {@link InvalidFrameError} (reason `size`) when `bytes` is not exactly
 *   {@link payloadBytes}`(format, pixels)` long, or `out` holds fewer than `pixels` values
 * @example
 * ```ts
 * const out = new Uint16Array(2);
 * unpackPixels('Mono12Packed', Uint8Array.of(0xab, 0x2c, 0x3d), 2, out); // [0xabc, 0x3d2]
 * ```
 */
export function unpackPixels(
  format: string,
  bytes: Uint8Array,
  pixels: number,
  out: Uint16Array,
): Uint16Array {
  const { unpack } = spec(format);
  const expected = payloadBytes(format, pixels);
  if (bytes.length !== expected) {
    throw new InvalidFrameError(
      'size',
      'payload',
      `${bytes.length} bytes`,
      `${pixels} pixels in ${format} are ${expected} bytes`,
    );
  }
  if (out.length < pixels) {
    throw new InvalidFrameError('size', 'out', out, `must hold the ${pixels} pixels of a ${format} buffer`);
  }
  unpack(bytes, pixels, out);
  return out;
}
