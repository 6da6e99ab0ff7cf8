import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  payloadBytes,
  UnsupportedPixelFormatError,
  unpackPixels,
} from '../../../../connectors/sources/genicam/pixel-formats.js';
import { InvalidFrameError } from '../../../../src/core/frame.js';

const unpack = (format: string, bytes: number[], pixels: number): number[] => [
  ...unpackPixels(format, Uint8Array.from(bytes), pixels, new Uint16Array(pixels)),
];

describe('payloadBytes', () => {
  it('is 1 or 2 bytes a pixel, ceil(1.5 x pixels) for the packed 12-bit formats', () => {
    expect(payloadBytes('Mono8', 1024 * 224)).toBe(229_376);
    expect(payloadBytes('Mono10', 3)).toBe(6);
    expect(payloadBytes('Mono12', 3)).toBe(6);
    expect(payloadBytes('Mono16', 1024 * 224)).toBe(458_752);
    expect(payloadBytes('Mono12Packed', 4)).toBe(6);
    expect(payloadBytes('Mono12Packed', 5)).toBe(8);
    expect(payloadBytes('Mono12p', 3)).toBe(5);
  });

  it('rejects a format it cannot read by name, listing the ones it can', () => {
    expect(() => payloadBytes('RGB8', 4)).toThrow(UnsupportedPixelFormatError);
    expect(() => payloadBytes('RGB8', 4)).toThrow(
      'pixel format "RGB8" is not supported: use one of Mono8, Mono10, Mono12, Mono12Packed, Mono12p, Mono16',
    );
  });
});

describe('unpackPixels on hand-packed buffers', () => {
  it('Mono8: one byte a pixel', () => {
    expect(unpack('Mono8', [0, 1, 128, 255], 4)).toEqual([0, 1, 128, 255]);
  });

  it('Mono10, Mono12, Mono16: little-endian 16-bit words', () => {
    expect(unpack('Mono10', [0xff, 0x03, 0x00, 0x02], 2)).toEqual([1023, 512]);
    expect(unpack('Mono12', [0xff, 0x0f, 0x34, 0x01], 2)).toEqual([4095, 0x134]);
    expect(unpack('Mono16', [0x34, 0x12, 0xff, 0xff, 0x01, 0x00], 3)).toEqual([0x1234, 65535, 1]);
  });

  it('16-bit words read the same from an aligned buffer (copied as words) and from an odd byte offset', () => {
    const words = [0x1234, 65535, 1, 0x8000];
    const bytes = words.flatMap((w) => [w & 0xff, w >> 8]);
    const odd = new Uint8Array(bytes.length + 1);
    odd.set(bytes, 1);
    expect([...unpackPixels('Mono16', odd.subarray(1), 4, new Uint16Array(4))]).toEqual(words);
    expect([...unpackPixels('Mono16', Uint8Array.from(bytes), 4, new Uint16Array(4))]).toEqual(words);
  });

  it('Mono12Packed (GigE Vision): B0 = P0[11:4], B1 = P1[3:0] << 4 | P0[3:0], B2 = P1[11:4]; even width', () => {
    // 0xabc, 0x3d2 -> ab 2c 3d; 0x001, 0xfff -> 00 f1 ff
    expect(unpack('Mono12Packed', [0xab, 0x2c, 0x3d, 0x00, 0xf1, 0xff], 4)).toEqual([
      0xabc, 0x3d2, 0x001, 0xfff,
    ]);
  });

  it('Mono12Packed: an odd width ends on half a triple (two bytes)', () => {
    // 0xabc, 0x3d2 -> ab 2c 3d; 0x5a7 alone -> 5a 07
    expect(unpack('Mono12Packed', [0xab, 0x2c, 0x3d, 0x5a, 0x07], 3)).toEqual([0xabc, 0x3d2, 0x5a7]);
  });

  it('Mono12p (PFNC, LSB first): B0 = P0[7:0], B1 = P1[3:0] << 4 | P0[11:8], B2 = P1[11:4]; even width', () => {
    // 0xabc, 0x3d2 -> bc 2a 3d; 0x001, 0xfff -> 01 f0 ff
    expect(unpack('Mono12p', [0xbc, 0x2a, 0x3d, 0x01, 0xf0, 0xff], 4)).toEqual([0xabc, 0x3d2, 0x001, 0xfff]);
  });

  it('Mono12p: an odd width ends on half a triple (two bytes)', () => {
    // 0xabc, 0x3d2 -> bc 2a 3d; 0x5a7 alone -> a7 05
    expect(unpack('Mono12p', [0xbc, 0x2a, 0x3d, 0xa7, 0x05], 3)).toEqual([0xabc, 0x3d2, 0x5a7]);
  });

  it('the two 12-bit packings differ on the same bytes', () => {
    const bytes = [0xab, 0x2c, 0x3d];
    expect(unpack('Mono12Packed', bytes, 2)).toEqual([0xabc, 0x3d2]);
    expect(unpack('Mono12p', bytes, 2)).toEqual([0xcab, 0x3d2]);
  });

  it('reuses the caller buffer: values in out[0 .. pixels-1], the rest untouched', () => {
    const out = new Uint16Array(4).fill(7);
    const result = unpackPixels('Mono8', Uint8Array.of(1, 2), 2, out);
    expect(result).toBe(out);
    expect([...out]).toEqual([1, 2, 7, 7]);
  });
});

/** Reference packers written from the layouts, to round-trip random lines. */
function pack12(pixels: readonly number[], format: 'Mono12Packed' | 'Mono12p'): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(pixels.length * 1.5));
  for (let p = 0; p < pixels.length; p += 2) {
    const p0 = pixels[p]!;
    const p1 = pixels[p + 1] ?? 0;
    const j = (p / 2) * 3;
    if (format === 'Mono12Packed') {
      bytes[j] = p0 >> 4;
      bytes[j + 1] = ((p1 & 0xf) << 4) | (p0 & 0xf);
    } else {
      bytes[j] = p0 & 0xff;
      bytes[j + 1] = ((p1 & 0xf) << 4) | (p0 >> 8);
    }
    if (j + 2 < bytes.length) bytes[j + 2] = p1 >> 4;
  }
  return bytes;
}

describe('unpackPixels round trips', () => {
  for (const format of ['Mono12Packed', 'Mono12p'] as const) {
    it(`${format}: any 12-bit line of any width comes back as packed`, () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: 4095 }), { minLength: 1, maxLength: 41 }), (line) => {
          const out = new Uint16Array(line.length);
          unpackPixels(format, pack12(line, format), line.length, out);
          expect([...out]).toEqual(line);
        }),
      );
    });
  }
});

describe('unpackPixels on a wrong buffer', () => {
  it('a byte count that is not the payload of the pixels: InvalidFrameError, reason size, naming both', () => {
    const call = () => unpackPixels('Mono16', new Uint8Array(1000), 1024, new Uint16Array(1024));
    expect(call).toThrow(InvalidFrameError);
    expect(call).toThrow('invalid frame: payload = "1000 bytes": 1024 pixels in Mono16 are 2048 bytes');
    try {
      call();
    } catch (error) {
      expect((error as InvalidFrameError).code).toBe('size');
    }
    // One byte short of an odd-width packed line.
    expect(() => unpackPixels('Mono12Packed', new Uint8Array(4), 3, new Uint16Array(3))).toThrow(
      '3 pixels in Mono12Packed are 5 bytes',
    );
  });

  it('an output buffer too small for the pixels', () => {
    expect(() => unpackPixels('Mono8', new Uint8Array(4), 4, new Uint16Array(3))).toThrow(
      'must hold the 4 pixels of a Mono8 buffer',
    );
  });

  it('an unknown format', () => {
    expect(() => unpackPixels('BayerRG8', new Uint8Array(4), 4, new Uint16Array(4))).toThrow(
      UnsupportedPixelFormatError,
    );
  });
});
