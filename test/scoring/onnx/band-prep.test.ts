import { Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileWat, KERNELS } from '../../../scripts/build-kernels.js';
import { seededRandom } from '../../../src/model/seeded-random.js';
import { BandPrepKernel, type BandPrepSpec } from '../../../src/scoring/onnx/kernels/band-prep.js';
import { BAND_PREP_WASM_BASE64 } from '../../../src/scoring/onnx/kernels/band-prep-wasm.js';
import { KernelError } from '../../../src/scoring/onnx/kernels/kernel-error.js';
import { createOrtSession } from '../../../src/scoring/onnx/ort-session.js';
import { buildRxGraph } from '../../../src/scoring/onnx/rx-graph.js';

type Input = Uint16Array | Float32Array;

/** The kernel's semantics in float64, written the obvious way. */
function reference(input: Input, spec: BandPrepSpec): Float64Array {
  const { pixels, bands, lo, count } = spec;
  const eps = spec.eps ?? 1e-8;
  const out = new Float64Array(pixels * count);
  for (let p = 0; p < pixels; p++) {
    const row = p * bands + lo;
    let sum = 0;
    for (let j = 0; j < count; j++) sum += input[row + j]!;
    const mean = spec.unitNorm ? sum / count : 0;
    let squares = 0;
    for (let j = 0; j < count; j++) squares += (input[row + j]! - mean) ** 2;
    const scale = spec.unitNorm ? Math.max(Math.sqrt(squares), eps) : 1;
    for (let j = 0; j < count; j++) out[p * count + j] = (input[row + j]! - mean) / scale;
  }
  return out;
}

/** Worst |got - ref| / (1e-6·|ref| + 5e-7): <= 1 passes (unit vectors, so ~1e-6 of their norm). */
function worstError(got: Float32Array, ref: Float64Array): { ratio: number; index: number } {
  expect(got.length).toBe(ref.length);
  let worst = { ratio: 0, index: -1 };
  for (let i = 0; i < ref.length; i++) {
    const ratio = Math.abs(got[i]! - ref[i]!) / (1e-6 * Math.abs(ref[i]!) + 5e-7);
    if (!(ratio <= worst.ratio))
      worst = { ratio: Number.isNaN(ratio) ? Number.POSITIVE_INFINITY : ratio, index: i };
  }
  return worst;
}

function randomInput(kind: 'uint16' | 'float32', length: number, seed: number, draw?: () => number): Input {
  const random = seededRandom(seed);
  if (kind === 'uint16') return Uint16Array.from({ length }, draw ?? (() => Math.floor(random() * 65_536)));
  return Float32Array.from({ length }, draw ?? (() => 4 * random() - 1));
}

const SHAPES: readonly { bands: number; lo: number; count: number }[] = [
  { bands: 224, lo: 112, count: 112 },
  { bands: 61, lo: 34, count: 27 },
  { bands: 61, lo: 0, count: 61 },
  { bands: 9, lo: 3, count: 5 },
  { bands: 7, lo: 6, count: 1 },
  { bands: 13, lo: 1, count: 12 },
];

describe('BandPrepKernel', () => {
  const kernel = BandPrepKernel.create();

  for (const kind of ['uint16', 'float32'] as const) {
    for (const unitNorm of [true, false]) {
      for (const { bands, lo, count } of SHAPES) {
        it(`${kind}, unitNorm ${unitNorm}, ${bands} bands, keeps ${lo}..${lo + count - 1}`, () => {
          const pixels = 37;
          const input = randomInput(kind, pixels * bands, bands * 1000 + count);
          const spec = { pixels, bands, lo, count, unitNorm };
          const got = kernel.prepare(input, spec);
          const ref = reference(input, spec);
          if (unitNorm) {
            const worst = worstError(got, ref);
            expect(worst.ratio, `worst at ${worst.index}`).toBeLessThanOrEqual(1);
          } else {
            // Slice + cast is exact.
            expect(Array.from(got)).toEqual(Array.from(ref));
          }
        });
      }
    }
  }

  it('keeps the digits of raw counts: a large mean and a small spread', () => {
    const random = seededRandom(7);
    const spec = { pixels: 500, bands: 224, lo: 112, count: 112, unitNorm: true };
    const input = randomInput('uint16', 500 * 224, 0, () => 60_000 + Math.floor(random() * 16));
    const worst = worstError(kernel.prepare(input, spec), reference(input, spec));
    expect(worst.ratio).toBeLessThanOrEqual(1);
    const floats = randomInput('float32', 500 * 224, 0, () => 1e4 + random());
    const worstFloat = worstError(kernel.prepare(floats, spec), reference(floats, spec));
    expect(worstFloat.ratio).toBeLessThanOrEqual(1);
  });

  it('is exact at the ends of the uint16 range (0 and 65535, 256 bands)', () => {
    const random = seededRandom(11);
    const spec = { pixels: 64, bands: 256, lo: 0, count: 256, unitNorm: true };
    const input = randomInput('uint16', 64 * 256, 0, () => (random() < 0.5 ? 0 : 65_535));
    expect(worstError(kernel.prepare(input, spec), reference(input, spec)).ratio).toBeLessThanOrEqual(1);
  });

  it('turns a pixel of equal values into zeros', () => {
    const bands = 29;
    const levels = [0, 1, 12_345, 65_535];
    const u16 = new Uint16Array(levels.length * bands);
    for (const [p, level] of levels.entries()) u16.fill(level, p * bands, (p + 1) * bands);
    const spec = { pixels: levels.length, bands, lo: 2, count: 27, unitNorm: true };
    expect(Array.from(kernel.prepare(u16, spec)).every((v) => v === 0)).toBe(true);
    const f32 = new Float32Array(levels.length * bands);
    for (const [p, level] of [0.1, -3.7e-5, 1e30, 123.456].entries())
      f32.fill(level, p * bands, (p + 1) * bands);
    expect(Array.from(kernel.prepare(f32, spec)).every((v) => v === 0)).toBe(true);
  });

  it('applies eps as a floor of the norm', () => {
    // Values 0 and 1 on 4 bands: norm 1; with eps = 4 every value is divided by 4.
    const input = Uint16Array.of(0, 1, 0, 1);
    const got = kernel.prepare(input, { pixels: 1, bands: 4, lo: 0, count: 4, unitNorm: true, eps: 4 });
    expect(Array.from(got)).toEqual([-0.125, 0.125, -0.125, 0.125]);
  });

  it('reads an input on a SharedArrayBuffer at an offset', () => {
    const pixels = 21;
    const bands = 61;
    const source = randomInput('uint16', pixels * bands, 3) as Uint16Array;
    const shared = new Uint16Array(new SharedArrayBuffer(2 * (pixels * bands + 11)), 2 * 5, pixels * bands);
    shared.set(source);
    const spec = { pixels, bands, lo: 34, count: 27, unitNorm: true };
    const worst = worstError(kernel.prepare(shared, spec), reference(source, spec));
    expect(worst.ratio).toBeLessThanOrEqual(1);

    const floats = randomInput('float32', pixels * bands, 4) as Float32Array;
    const sharedFloats = new Float32Array(
      new SharedArrayBuffer(4 * (pixels * bands + 3)),
      4 * 3,
      pixels * bands,
    );
    sharedFloats.set(floats);
    const worstFloat = worstError(kernel.prepare(sharedFloats, spec), reference(floats, spec));
    expect(worstFloat.ratio).toBeLessThanOrEqual(1);
  });

  it('grows its memory for a bigger chunk, and the result stays right', () => {
    const own = BandPrepKernel.create();
    const small = { pixels: 4, bands: 224, lo: 112, count: 112, unitNorm: true };
    const smallInput = randomInput('uint16', 4 * 224, 5);
    const before = own.prepare(smallInput, small);
    const bytesBefore = own.memoryBytes;
    expect(worstError(before, reference(smallInput, small)).ratio).toBeLessThanOrEqual(1);

    const big = { pixels: 8192, bands: 256, lo: 0, count: 256, unitNorm: true };
    const bigInput = randomInput('float32', 8192 * 256, 6);
    const after = own.prepare(bigInput, big);
    expect(own.memoryBytes).toBeGreaterThanOrEqual(8192 * 256 * 4 * 2);
    expect(own.memoryBytes).toBeGreaterThan(bytesBefore);
    expect(worstError(after, reference(bigInput, big)).ratio).toBeLessThanOrEqual(1);
    // The earlier view lived on the buffer that growing detached.
    expect(before.length).toBe(0);

    // And back to a small chunk in the grown memory.
    expect(
      worstError(own.prepare(smallInput, small), reference(smallInput, small)).ratio,
    ).toBeLessThanOrEqual(1);
  });

  it('returns an empty result for an empty chunk', () => {
    expect(
      kernel.prepare(new Uint16Array(0), { pixels: 0, bands: 5, lo: 1, count: 2, unitNorm: true }).length,
    ).toBe(0);
  });

  it.each([
    ['spec.pixels', { pixels: 1.5 }],
    ['spec.pixels', { pixels: -1 }],
    ['spec.bands', { bands: 0 }],
    ['spec.bands', { bands: 70_000 }],
    ['spec.lo', { lo: -1 }],
    ['spec.lo', { lo: 10 }],
    ['spec.count', { count: 0 }],
    ['spec.count', { lo: 4, count: 7 }],
    ['spec.count', { count: Number.NaN }],
    ['spec.eps', { eps: 0 }],
    ['spec.eps', { eps: 1e-60 }],
    ['spec.eps', { eps: Number.POSITIVE_INFINITY }],
    ['spec.unitNorm', { unitNorm: 1 as unknown as boolean }],
    ['input', { pixels: 3 }],
  ] as const)('rejects a bad %s: %o', (field, override) => {
    const spec = { pixels: 2, bands: 10, lo: 2, count: 5, unitNorm: true, ...override };
    const run = () => kernel.prepare(new Uint16Array(20), spec);
    expect(run).toThrow(KernelError);
    expect(run).toThrow(expect.objectContaining({ field }));
  });

  it('rejects an input that is neither uint16 nor float32', () => {
    const spec = { pixels: 1, bands: 2, lo: 0, count: 2, unitNorm: false };
    expect(() => kernel.prepare(new Int16Array(2) as unknown as Uint16Array, spec)).toThrow(/input: must be/);
  });

  describe('with onnxruntime', () => {
    const bands = 27;
    let session: Awaited<ReturnType<typeof createOrtSession>>;

    beforeAll(async () => {
      // RX with Σ⁺ = I: scores = Σ_j (x_j - μ_j)², easy to check.
      const covInverse = new Float64Array(bands * bands);
      for (let i = 0; i < bands; i++) covInverse[i * bands + i] = 1;
      const mean = Float64Array.from({ length: bands }, (_, i) => i / 100);
      const graph = buildRxGraph({ bands, mean, covInverse });
      session = await createOrtSession(graph.bytes, { threads: 1, describe: graph.describe });
    });

    afterAll(async () => {
      await session?.release();
    });

    it('takes the returned view (on wasm memory, at an offset) as a tensor', async () => {
      const pixels = 50;
      const spec = { pixels, bands: 61, lo: 34, count: bands, unitNorm: true };
      const input = randomInput('uint16', pixels * 61, 9);
      const view = kernel.prepare(input, spec);
      expect(view.byteOffset).toBeGreaterThan(0);
      expect(view.buffer).toBeInstanceOf(ArrayBuffer);
      const result = await session.run({ x: new Tensor('float32', view, [pixels, bands]) });
      const scores = result.scores!.data as Float32Array;
      const ref = reference(input, spec);
      for (let p = 0; p < pixels; p++) {
        let want = 0;
        for (let j = 0; j < bands; j++) want += (ref[p * bands + j]! - j / 100) ** 2;
        expect(scores[p]).toBeCloseTo(want, 5);
      }
    });
  });

  it('runs the committed binary, which is what the .wat compiles to', async () => {
    const kernelSource = KERNELS.find((k) => k.constant === 'BAND_PREP_WASM_BASE64');
    expect(kernelSource).toBeDefined();
    const fresh = await compileWat(kernelSource!.wat);
    const committed = new Uint8Array(Buffer.from(BAND_PREP_WASM_BASE64, 'base64'));
    expect(committed.length).toBe(fresh.length);
    expect(Buffer.compare(Buffer.from(committed), Buffer.from(fresh))).toBe(0);
  });
});
