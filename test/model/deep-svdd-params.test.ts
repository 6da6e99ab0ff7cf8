import { describe, expect, it } from 'vitest';
import { selectBands } from '../../src/model/band-selection.js';
import {
  type DeepSvddParams,
  initProjection,
  initResidualProjection,
  meanEmbedding,
  projectionShape,
  validateDeepSvddParams,
} from '../../src/model/deep-svdd-params.js';
import { ModelParamsError } from '../../src/model/model-errors.js';
import { seededRandom } from '../../src/model/seeded-random.js';

function extent(values: Float32Array): { min: number; max: number; mean: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  return { min, max, mean: sum / values.length };
}

describe('seededRandom', () => {
  it('repeats its sequence for a seed, differs across seeds, stays in [0, 1)', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
  });
});

describe('initProjection', () => {
  it('draws W1, b1 from U(±1/sqrt(C)) and W2 Xavier-uniform, with the default 128 -> 32 shapes', () => {
    const w = initProjection(27, { seed: 3 });
    expect([w.W1.length, w.b1.length, w.W2.length, w.hidden, w.rep]).toEqual([
      128 * 27,
      128,
      32 * 128,
      128,
      32,
    ]);
    const bound1 = 1 / Math.sqrt(27);
    const bound2 = Math.sqrt(6 / (128 + 32));
    for (const [values, bound] of [
      [w.W1, bound1],
      [w.b1, bound1],
      [w.W2, bound2],
    ] as const) {
      const { min, max, mean } = extent(values);
      expect(min).toBeGreaterThanOrEqual(-bound);
      expect(max).toBeLessThanOrEqual(bound);
      // Uses the whole range (not, say, half of it) and is centred.
      expect(max - min).toBeGreaterThan(1.8 * bound);
      expect(Math.abs(mean)).toBeLessThan(0.2 * bound);
    }
    expect(projectionShape(w)).toEqual({ inChannels: 27, hidden: 128, rep: 32 });
  });

  it('is deterministic per seed and honours hidden/rep', () => {
    expect(initProjection(5, { seed: 1, hidden: 4, rep: 2 })).toEqual(
      initProjection(5, { seed: 1, hidden: 4, rep: 2 }),
    );
    expect(initProjection(5, { seed: 1 }).W1).not.toEqual(initProjection(5, { seed: 2 }).W1);
    expect(() => initProjection(0)).toThrow(
      new ModelParamsError('inChannels', '0 must be a positive integer'),
    );
  });
});

describe('projectionShape', () => {
  it('names the weight whose length does not fit', () => {
    const b1 = new Float32Array(4);
    expect(() => projectionShape({ W1: new Float32Array(10), b1, W2: new Float32Array(8) })).toThrow(
      'model parameter project.W1: 10 values is not [4, C] (hidden = b1.length)',
    );
    expect(() => projectionShape({ W1: new Float32Array(12), b1, W2: new Float32Array(6) })).toThrow(
      'model parameter project.W2: 6 values is not [D, 4]',
    );
  });
});

describe('selectBands', () => {
  const w = Float32Array.of(650, 699.5, 700, 750, 800, 910);
  it('keeps min <= λ <= max, both inclusive, in order', () => {
    expect(Array.from(selectBands(w, { minNm: 700 }))).toEqual([2, 3, 4, 5]);
    expect(Array.from(selectBands(w, { minNm: 700, maxNm: 800 }))).toEqual([2, 3, 4]);
    expect(Array.from(selectBands(w, { minNm: 920 }))).toEqual([]);
  });
  it('compares at float32 precision, so a bound written like the wavelength keeps it', () => {
    expect(Array.from(selectBands(Float32Array.of(700.1, 700.2), { minNm: 700.1, maxNm: 700.1 }))).toEqual([
      0,
    ]);
  });
});

describe('validateDeepSvddParams', () => {
  const wavelengthsNm = Float32Array.of(600, 700, 800);
  const valid: DeepSvddParams = {
    wavelengthsNm,
    bandpass: { minNm: 700 },
    unitNorm: true,
    zscore: { mean: new Float32Array(2), std: Float32Array.of(1, 1) },
    project: initProjection(2, { hidden: 3, rep: 2 }),
    center: new Float32Array(2),
  };
  it('accepts a consistent record', () => {
    expect(validateDeepSvddParams(valid)).toBe(valid);
  });
  it('names the inconsistent parameter', () => {
    expect(() => validateDeepSvddParams({ ...valid, center: new Float32Array(3) })).toThrow(
      'model parameter center: has 3 values, expected 2',
    );
    expect(() =>
      validateDeepSvddParams({ ...valid, zscore: { mean: new Float32Array(2), std: Float32Array.of(1, 0) } }),
    ).toThrow('model parameter zscore.std[1]: 0 must be > 0');
    expect(() => validateDeepSvddParams({ ...valid, bandpass: { minNm: 900 } })).toThrow(
      'model parameter bandpass: keeps none of the 3 wavelengths',
    );
    expect(() => validateDeepSvddParams({ ...valid, center: Float32Array.of(0, Number.NaN) })).toThrow(
      'model parameter center[1]: NaN is not finite',
    );
  });
  const whitened: DeepSvddParams = {
    ...valid,
    whiten: { mean: new Float32Array(2), matrix: Float32Array.of(1, 0, 0, 1, 1, 1), components: 3 },
    project: initResidualProjection(3, { hidden: 4 }),
    center: new Float32Array(3),
  };
  it('accepts a whitening stage and a residual projection over its k components', () => {
    expect(validateDeepSvddParams(whitened)).toBe(whitened);
  });
  it('names the whitening or residual parameter that does not fit', () => {
    expect(() =>
      validateDeepSvddParams({ ...whitened, whiten: { ...whitened.whiten!, matrix: new Float32Array(4) } }),
    ).toThrow('model parameter whiten.matrix: has 4 values, expected 6');
    expect(() =>
      validateDeepSvddParams({ ...whitened, whiten: { ...whitened.whiten!, mean: new Float32Array(3) } }),
    ).toThrow('model parameter whiten.mean: has 3 values, expected 2');
    // The projection must take k = 3 channels, not the 2 kept bands.
    expect(() => validateDeepSvddParams({ ...whitened, whiten: undefined })).toThrow(
      'model parameter project.rep: a residual projection needs D = its input channels (2), got 3',
    );
    expect(() =>
      validateDeepSvddParams({
        ...whitened,
        project: { ...initProjection(3, { hidden: 4, rep: 2 }), residual: true },
        center: new Float32Array(2),
      }),
    ).toThrow('model parameter project.rep: a residual projection needs D = its input channels (3), got 2');
  });
});

describe('meanEmbedding', () => {
  it('averages every pixel of every batch', () => {
    const center = meanEmbedding([Float32Array.of(1, 10, 3, 30), Float32Array.of(5, 50)], 2);
    expect(Array.from(center)).toEqual([3, 30]);
  });
  it('rejects partial pixels and an empty input', () => {
    expect(() => meanEmbedding([new Float32Array(3)], 2)).toThrow(
      'a batch of 3 values is not a whole number of 2-dim pixels',
    );
    expect(() => meanEmbedding([], 2)).toThrow('model parameter embeddings: no pixels to average');
  });
});
