import { describe, expect, it } from 'vitest';
import { initProjection, initResidualProjection } from '../../src/model/deep-svdd-params.js';
import { ModelParamsError } from '../../src/model/model-errors.js';
import {
  describeLayers,
  networkLayers,
  networkShapeOf,
  projectionLayers,
  projectionParamName,
  projectionStart,
} from '../../src/model/network.js';
import { foldZscore, foldZscoreIntoWhitening, whiteningBias } from '../../src/model/network-folds.js';
import { seededRandom } from '../../src/model/seeded-random.js';

describe('projectionLayers / networkLayers', () => {
  it('lists z-score -> Linear(W1, b1) -> ReLU -> Linear(W2) in order, with their widths', () => {
    expect(networkLayers({ channels: 27, hidden: 128, rep: 32, residual: false })).toEqual([
      { kind: 'zscore', channels: 27 },
      { kind: 'affine', weight: 'W1', bias: 'b1', inputs: 27, outputs: 128 },
      { kind: 'relu' },
      { kind: 'affine', weight: 'W2', inputs: 128, outputs: 32 },
    ]);
  });

  it('puts the whitening before the projection and a residual add after it (issue 5)', () => {
    const layers = networkLayers({ channels: 40, components: 6, hidden: 9, rep: 6, residual: true });
    expect(layers.map((layer) => layer.kind)).toEqual([
      'zscore',
      'whiten',
      'affine',
      'relu',
      'affine',
      'residual',
    ]);
    expect(layers[1]).toEqual({ kind: 'whiten', channels: 40, components: 6 });
    expect(layers[2]).toMatchObject({ inputs: 6, outputs: 9 });
    expect(projectionStart(layers)).toBe(2);
    expect(describeLayers(layers)).toBe('40->6->9->6 residual');
  });

  it('refuses a residual projection whose output width differs from its input', () => {
    expect(() => projectionLayers({ inChannels: 5, hidden: 3, rep: 4, residual: true })).toThrow(
      ModelParamsError,
    );
  });

  it('reads the shape from a parameter record', () => {
    const project = initResidualProjection(4, { hidden: 7 });
    const zscore = { mean: new Float32Array(10), std: new Float32Array(10).fill(1) };
    const whiten = { mean: new Float32Array(10), matrix: new Float32Array(40), components: 4 };
    expect(networkShapeOf({ zscore, whiten, project })).toEqual({
      channels: 10,
      components: 4,
      hidden: 7,
      rep: 4,
      residual: true,
    });
    const plain = networkShapeOf({ zscore, project: initProjection(10, { hidden: 3, rep: 2 }) });
    expect(describeLayers(networkLayers(plain))).toBe('10->3->2');
    expect(projectionParamName('b1')).toBe('project.b1');
  });
});

describe('network folds', () => {
  const random = seededRandom(3);
  const c = 5;
  const k = 3;
  const zscore = {
    mean: Float32Array.from({ length: c }, () => random() - 0.5),
    std: Float32Array.from({ length: c }, () => 0.3 + random()),
  };
  const whiten = {
    mean: Float32Array.from({ length: c }, () => random() - 0.5),
    matrix: Float32Array.from({ length: k * c }, () => random() - 0.5),
    components: k,
  };
  const x = Array.from({ length: c }, () => 2 * random() - 1);
  const affine = (w: Float32Array, b: ArrayLike<number>, v: readonly number[]): number[] =>
    Array.from({ length: b.length }, (_, j) => v.reduce((s, a, i) => s + w[j * v.length + i]! * a, b[j]!));

  it('foldZscoreIntoWhitening gives M·((x - μ)/σ - m) from x', () => {
    const y = x.map((v, i) => (v - zscore.mean[i]!) / zscore.std[i]! - whiten.mean[i]!);
    const want = affine(whiten.matrix, new Float32Array(k), y);
    const folded = foldZscoreIntoWhitening(whiten, zscore);
    affine(folded.W1, folded.b1, x).forEach((got, j) => {
      expect(got).toBeCloseTo(want[j]!, 5);
    });
  });

  it('whiteningBias makes the whitening one affine map: y·Mᵀ - M·m = (y - m)·Mᵀ', () => {
    expect(
      Array.from(
        whiteningBias({ mean: Float32Array.of(1, 2), matrix: Float32Array.of(3, 4), components: 1 }),
      ),
    ).toEqual([-11]);
    const want = affine(
      whiten.matrix,
      new Float32Array(k),
      x.map((v, i) => v - whiten.mean[i]!),
    );
    affine(whiten.matrix, whiteningBias(whiten), x).forEach((got, j) => {
      expect(got).toBeCloseTo(want[j]!, 5);
    });
  });

  it('foldZscore folds a z-score into a layer without a bias (zeros)', () => {
    const w = Float32Array.of(2, -1);
    const folded = foldZscore(w, new Float32Array(1), {
      mean: Float32Array.of(1, 3),
      std: Float32Array.of(2, 4),
    });
    // 2·(x0-1)/2 - (x1-3)/4 = x0 - 0.25·x1 - 1 + 0.75
    expect(Array.from(folded.W1)).toEqual([1, -0.25]);
    expect(Array.from(folded.b1)).toEqual([-0.25]);
  });
});
