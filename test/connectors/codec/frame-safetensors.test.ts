import { describe, expect, it } from 'vitest';
import { decodeFrameMessage, encodeFrameMessage } from '../../../connectors/codec/frame-safetensors.js';
import { createFrame, InvalidFrameError } from '../../../src/core/frame.js';
import { encodeSafetensors, type SafeTensor } from '../../../src/io/safetensors.js';

const frame = createFrame({
  cameraId: 'line-3',
  frameId: 17,
  rowOffset: 64,
  totalRows: 128,
  capturedAt: 1_700_000_000_123,
  height: 2,
  width: 3,
  bands: 4,
  wavelengths: [450, 550, 650, 750],
  data: Float32Array.from({ length: 24 }, (_, i) => i * 10 + 0.25),
  labels: Uint8Array.of(1, 2, 3, 4, 1, 2),
});

function message(
  cube: SafeTensor,
  metadata: Record<string, string>,
  extra: Record<string, SafeTensor> = {},
): Uint8Array {
  const bands = cube.shape[2] ?? 1;
  return encodeSafetensors(
    {
      cube,
      wavelengths: { dtype: 'F32', shape: [bands], data: new Float32Array(bands).map((_, i) => 400 + i) },
      ...extra,
    },
    metadata,
  );
}

describe('frame messages (docs/wire-format.md §1)', () => {
  it('round-trips a block with identity, wavelengths and labels in F32', () => {
    const decoded = decodeFrameMessage(encodeFrameMessage(frame));
    expect(decoded).toMatchObject({
      cameraId: 'line-3',
      frameId: 17,
      rowOffset: 64,
      totalRows: 128,
      capturedAt: 1_700_000_000_123,
    });
    expect([...decoded.data]).toEqual([...frame.data]);
    expect([...decoded.wavelengths]).toEqual([450, 550, 650, 750]);
    expect([...(decoded.labels ?? [])]).toEqual([1, 2, 3, 4, 1, 2]);
  });

  it.each(['U8', 'U16', 'I16', 'F64'] as const)('decodes a %s cube to float32', (dtype) => {
    const decoded = decodeFrameMessage(encodeFrameMessage(frame, { dtype }));
    expect(decoded.data).toBeInstanceOf(Float32Array);
    const expected = [...frame.data].map((v) =>
      dtype === 'F64' ? v : Math.min(dtype === 'U8' ? 255 : 65535, Math.round(v)),
    );
    expect([...decoded.data]).toEqual(expected);
  });

  it('carries a stated radiometry and leaves an unstated one out', () => {
    for (const radiometry of ['counts', 'reflectance'] as const) {
      expect(decodeFrameMessage(encodeFrameMessage({ ...frame, radiometry })).radiometry).toBe(radiometry);
    }
    const decoded = decodeFrameMessage(encodeFrameMessage(frame));
    expect('radiometry' in decoded).toBe(false);
  });

  it('rejects a radiometry that is neither counts nor reflectance, with reason metadata', () => {
    const bytes = message(
      { dtype: 'U16', shape: [1, 1, 2], data: Uint16Array.of(1, 2) },
      { camera_id: 'c', frame_id: '5', radiometry: 'radiance' },
    );
    expect(() => decodeFrameMessage(bytes)).toThrow(
      'invalid frame: __metadata__.radiometry = "radiance": must be "counts" or "reflectance" (or absent)',
    );
    try {
      decodeFrameMessage(bytes);
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidFrameError).code).toBe('metadata');
    }
  });

  it('accepts a minimal gateway message and fills defaults', () => {
    const bytes = message(
      { dtype: 'U16', shape: [1, 2, 3], data: Uint16Array.of(1, 2, 3, 4, 5, 6) },
      { camera_id: 'c', frame_id: '5' },
    );
    const decoded = decodeFrameMessage(bytes, { now: () => 99 });
    expect(decoded).toMatchObject({
      cameraId: 'c',
      frameId: 5,
      rowOffset: 0,
      totalRows: 1,
      capturedAt: 99,
      wavelengthUnits: 'nm',
    });
  });

  it.each([
    [
      'garbage bytes',
      Uint8Array.of(1, 2, 3),
      'decode',
      'invalid frame: message = "3 bytes": safetensors: 3 bytes is too short',
    ],
    [
      'no cube',
      encodeSafetensors({ x: { dtype: 'U8', shape: [1], data: Uint8Array.of(1) } }),
      'decode',
      'tensor "cube" is missing',
    ],
    [
      'bad dtype',
      message({ dtype: 'I32', shape: [1, 1, 1], data: Int32Array.of(1) }, { camera_id: 'c', frame_id: '1' }),
      'decode',
      'cube.dtype = "I32": must be one of U8, U16, I16, F32, F64',
    ],
    [
      'rank 2 cube',
      message({ dtype: 'U8', shape: [1, 1], data: Uint8Array.of(1) }, { camera_id: 'c', frame_id: '1' }),
      'shape',
      'cube.shape = "[1,1]": must be [height, width, bands]',
    ],
    [
      'NaN data',
      message(
        { dtype: 'F32', shape: [1, 1, 2], data: Float32Array.of(1, Number.NaN) },
        { camera_id: 'c', frame_id: '1' },
      ),
      'nonfinite',
      'band 1] = NaN: must be finite',
    ],
    [
      'missing frame id',
      message({ dtype: 'U8', shape: [1, 1, 1], data: Uint8Array.of(1) }, { camera_id: 'c' }),
      'decode',
      '__metadata__.frame_id = undefined: is required',
    ],
    [
      'non-numeric frame id',
      message({ dtype: 'U8', shape: [1, 1, 1], data: Uint8Array.of(1) }, { camera_id: 'c', frame_id: 'x1' }),
      'decode',
      '__metadata__.frame_id = "x1": must be a number',
    ],
    [
      'labels of the wrong size',
      message(
        { dtype: 'U8', shape: [1, 2, 1], data: Uint8Array.of(1, 2) },
        { camera_id: 'c', frame_id: '1' },
        {
          labels: { dtype: 'U8', shape: [1], data: Uint8Array.of(1) },
        },
      ),
      'labels',
      'must be U8 [1, 2]',
    ],
  ])('rejects %s with a named error', (_name, bytes, code, text) => {
    try {
      decodeFrameMessage(bytes);
      expect.unreachable('decode should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidFrameError);
      expect((error as InvalidFrameError).code).toBe(code);
      expect((error as Error).message).toContain(text);
    }
  });

  it('rejects a header claiming 10^12 pixels before touching data', () => {
    const json = JSON.stringify({
      __metadata__: { camera_id: 'c', frame_id: '1' },
      cube: { dtype: 'U8', shape: [1_000_000, 1_000_000, 1], data_offsets: [0, 1e12] },
      wavelengths: { dtype: 'F32', shape: [1], data_offsets: [1e12, 1e12 + 4] },
    });
    const header = new TextEncoder().encode(json);
    const bytes = new Uint8Array(8 + header.length + 16);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    expect(() => decodeFrameMessage(bytes)).toThrow(/point past the 16-byte data buffer/);
  });

  it('enforces maxValues on an honest but oversized frame', () => {
    const bytes = message(
      { dtype: 'U8', shape: [4, 4, 4], data: new Uint8Array(64) },
      { camera_id: 'c', frame_id: '1' },
    );
    expect(() => decodeFrameMessage(bytes, { maxValues: 63 })).toThrow(
      /exceeds the limit of 63 values per frame/,
    );
  });

  it('regression (fuzz): a cube shape nested 4094 arrays deep is an InvalidFrameError, not a RangeError', () => {
    const json = JSON.stringify({
      __metadata__: { camera_id: 'a', frame_id: '0' },
      cube: { dtype: 'F32', shape: 'DEEP', data_offsets: [0, 4] },
      wavelengths: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
    }).replace('"DEEP"', `${'['.repeat(4094)}${']'.repeat(4094)}`);
    const header = new TextEncoder().encode(json);
    const bytes = new Uint8Array(8 + header.length + 8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    expect(() => decodeFrameMessage(bytes)).toThrow(InvalidFrameError);
    expect(() => decodeFrameMessage(bytes)).toThrow(
      'tensor "cube": shape [[[...]]] has a dimension that is not',
    );
  });

  it('refuses an oversized cube from its header, before anything else is looked at', () => {
    // The cube entry says 4x4x4 = 64 values; with maxValues 8 that is refused from the header
    // alone, so the 256 bytes of data are never copied.
    const bytes = message(
      { dtype: 'F32', shape: [4, 4, 4], data: new Float32Array(64) },
      { camera_id: 'c', frame_id: '1' },
      { junk: { dtype: 'U8', shape: [1024], data: new Uint8Array(1024) } },
    );
    expect(() => decodeFrameMessage(bytes, { maxValues: 8 })).toThrow(/"4x4x4 = 64": exceeds the limit of 8/);
    expect(
      decodeFrameMessage(
        message(
          { dtype: 'U8', shape: [1, 1, 4], data: new Uint8Array(4) },
          { camera_id: 'c', frame_id: '1' },
          { junk: { dtype: 'U8', shape: [1024], data: new Uint8Array(1024) } },
        ),
      ).bands,
    ).toBe(4);
  });
});
