import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  SafetensorsError,
  toFloat32,
  toFloat64,
} from '../../src/io/safetensors.js';

function withHeader(header: unknown, dataBytes = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe('safetensors codec', () => {
  it('round-trips every dtype with metadata, 8-byte aligned', () => {
    const bytes = encodeSafetensors(
      {
        f32: { dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6.5) },
        f64: { dtype: 'F64', shape: [2], data: Float64Array.of(Math.PI, -1e300) },
        u8: { dtype: 'U8', shape: [3], data: Uint8Array.of(0, 128, 255) },
        i8: { dtype: 'I8', shape: [2], data: Int8Array.of(-128, 127) },
        u16: { dtype: 'U16', shape: [1, 2], data: Uint16Array.of(0, 65535) },
        i16: { dtype: 'I16', shape: [2], data: Int16Array.of(-32768, 32767) },
        u32: { dtype: 'U32', shape: [1], data: Uint32Array.of(4294967295) },
        i32: { dtype: 'I32', shape: [1], data: Int32Array.of(-5) },
        i64: { dtype: 'I64', shape: [1], data: BigInt64Array.of(-7n) },
        u64: { dtype: 'U64', shape: [1], data: BigUint64Array.of(7n) },
        empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      },
      { camera_id: 'cam7' },
    );
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const file = decodeSafetensors(bytes);
    expect(file.metadata).toEqual({ camera_id: 'cam7' });
    expect([...(file.tensors.get('f32')?.data ?? [])]).toEqual([1, 2, 3, 4, 5, 6.5]);
    expect(file.tensors.get('f32')?.shape).toEqual([2, 3]);
    expect([...(file.tensors.get('f64')?.data ?? [])]).toEqual([Math.PI, -1e300]);
    expect([...(file.tensors.get('i16')?.data ?? [])]).toEqual([-32768, 32767]);
    expect([...(file.tensors.get('u32')?.data ?? [])]).toEqual([4294967295]);
    expect(file.tensors.get('i64')?.data[0]).toBe(-7n);
    expect(file.tensors.get('empty')?.data.length).toBe(0);
  });

  it('property: any float32 tensor round-trips exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true }), { maxLength: 64 }), (values) => {
        const data = Float32Array.from(values);
        const file = decodeSafetensors(
          encodeSafetensors({ t: { dtype: 'F32', shape: [data.length], data } }),
        );
        expect([...(file.tensors.get('t')?.data ?? [])]).toEqual([...data]);
      }),
    );
  });

  it('decodes F16 and BF16 to float32', () => {
    const f16 = { dtype: 'F16' as const, shape: [3], data: Uint16Array.of(0x3c00, 0xc000, 0x3555) };
    expect([...toFloat32(f16)].map((v) => Number(v.toFixed(4)))).toEqual([1, -2, 0.3333]);
    const bf16 = { dtype: 'BF16' as const, shape: [1], data: Uint16Array.of(0x3fc0) };
    expect(toFloat32(bf16)[0]).toBe(1.5);
    expect([...toFloat64({ dtype: 'I16', shape: [1], data: Int16Array.of(-3) })]).toEqual([-3]);
  });

  it('reads the shared golden vectors', () => {
    const file = decodeSafetensors(
      readFileSync(new URL('../../../shared/golden/deep_svdd_golden.safetensors', import.meta.url)),
    );
    expect(file.tensors.get('input.cube')?.shape).toEqual([2, 8, 12, 61]);
    expect(file.tensors.get('rx.cov')?.dtype).toBe('F64');
  });

  it.each([
    ['too short', new Uint8Array(4), 'safetensors: 4 bytes is too short for the 8-byte header length'],
    [
      'header length past the end',
      (() => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setBigUint64(0, 1000n, true);
        return b;
      })(),
      'safetensors: header length 1000 exceeds the 8 bytes that follow it',
    ],
    [
      'bad JSON',
      (() => {
        const b = withHeader({});
        b[8] = 0x5b;
        return b;
      })(),
      'safetensors: header is not valid UTF-8 JSON',
    ],
    ['header not an object', withHeader([1, 2]), 'safetensors: header must be a JSON object'],
    [
      'unknown dtype',
      withHeader({ t: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, 8),
      'tensor "t": unsupported dtype "C64"',
    ],
    [
      'shape vs bytes',
      withHeader({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8),
      'tensor "t": shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8',
    ],
    [
      'offsets past the buffer',
      withHeader({ t: { dtype: 'U8', shape: [8], data_offsets: [0, 8] } }, 4),
      'tensor "t": data_offsets [0, 8] point past the 4-byte data buffer',
    ],
    [
      'overlap',
      withHeader(
        {
          a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] },
          b: { dtype: 'U8', shape: [4], data_offsets: [2, 6] },
        },
        6,
      ),
      'tensor "b": data_offsets [2, 6] overlap the previous tensor (ends at 4)',
    ],
    [
      'gap',
      withHeader({ a: { dtype: 'U8', shape: [2], data_offsets: [2, 4] } }, 4),
      'tensor "a": gap of 2 bytes',
    ],
    [
      'trailing bytes',
      withHeader({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } }, 4),
      'tensors cover 2 bytes but the data buffer holds 4',
    ],
    [
      'negative dim',
      withHeader({ a: { dtype: 'U8', shape: [-1], data_offsets: [0, 0] } }),
      'tensor "a": shape [-1] has a dimension',
    ],
    [
      'metadata not strings',
      withHeader({ __metadata__: { a: 1 } }),
      '__metadata__.a must be a string, got number',
    ],
  ])('rejects %s', (_name, bytes, message) => {
    expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
    expect(() => decodeSafetensors(bytes)).toThrow(message);
  });

  it('refuses to encode data that does not match its dtype or shape', () => {
    expect(() => encodeSafetensors({ t: { dtype: 'F32', shape: [2], data: Float64Array.of(1, 2) } })).toThrow(
      'tensor "t": Float64Array does not hold F32',
    );
    expect(() => encodeSafetensors({ t: { dtype: 'F32', shape: [3], data: Float32Array.of(1, 2) } })).toThrow(
      'tensor "t": shape [3] has 3 elements but data holds 2',
    );
  });

  it('regression (fuzz): a shape or dtype nested thousands of arrays deep is a SafetensorsError, not a stack overflow', () => {
    // JSON.parse builds it; rendering it with JSON.stringify in the message threw RangeError.
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    for (const field of ['shape', 'dtype']) {
      const entry = { dtype: 'U8', shape: [1], data_offsets: [0, 1] };
      const json = JSON.stringify({ t: { ...entry, [field]: 'DEEP' } }).replace('"DEEP"', deep);
      const header = new TextEncoder().encode(json);
      const bytes = new Uint8Array(8 + header.length + 1);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
      bytes.set(header, 8);
      expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
      const rendered = field === 'shape' ? 'shape [[[...]]]' : 'unsupported dtype [[[...]]]';
      expect(() => decodeSafetensors(bytes)).toThrow(`tensor "t": ${rendered}`);
    }
  });

  it('checks every entry with checkEntry before copying, and copies only the tensors asked for', () => {
    const bytes = encodeSafetensors({
      a: { dtype: 'U8', shape: [2], data: Uint8Array.of(1, 2) },
      b: { dtype: 'F32', shape: [1, 1], data: Float32Array.of(3) },
    });
    const seen: string[] = [];
    const file = decodeSafetensors(bytes, {
      only: ['b'],
      checkEntry: (entry) => seen.push(`${entry.name}:${entry.dtype}:${entry.shape.join('x')}`),
    });
    expect(seen.sort()).toEqual(['a:U8:2', 'b:F32:1x1']);
    expect([...file.tensors.keys()]).toEqual(['b']);
    const refuse = () =>
      decodeSafetensors(bytes, {
        checkEntry: (entry) => {
          if (entry.name === 'a') throw new SafetensorsError('a is refused');
        },
      });
    expect(refuse).toThrow('safetensors: a is refused');
  });

  it('keeps a metadata key named __proto__ as a key', () => {
    const bytes = withHeader({ __metadata__: JSON.parse('{"__proto__":"x","k":"v"}') });
    const { metadata } = decodeSafetensors(bytes);
    expect(Object.entries(metadata)).toEqual([
      ['__proto__', 'x'],
      ['k', 'v'],
    ]);
  });
});
