import * as tf from '@tensorflow/tfjs';
import { from, lastValueFrom, of, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { rxScore } from '../../operators/rx-score.js';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { ChannelCountError, ModelParamsError } from '../../src/model/model-errors.js';
import { fitRx, RxStats } from '../../src/model/rx-stats.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { initEngine } from '../../src/scoring/engine.js';
import { cube } from './tensor-frames.js';

/** Strongly correlated spectra around a large offset: the case where float32 xᵀ(Px) loses digits. */
function spectra(count: number, bands: number, seed: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const level = random();
    return Array.from(
      { length: bands },
      (_, b) => 50 + 20 * level * (1 + b / bands) + 0.01 * (random() - 0.5),
    );
  });
}

function mahalanobis(x: readonly number[], mean: Float64Array, inverse: Float64Array): number {
  const n = mean.length;
  const d = x.map((v, i) => v - mean[i]!);
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += d[i]! * inverse[i * n + j]! * d[j]!;
  return s;
}

describe('rxScore', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('scores (x - μ)ᵀ Σ⁺ (x - μ) within 1e-5 relative of float64, on ill-conditioned data', async () => {
    const bands = 12;
    const training = spectra(400, bands, 1);
    const stats = new RxStats(bands).add(Float32Array.from(training.flat()));
    const model = fitRx(stats);
    const test = spectra(50, bands, 2);
    test.push(test[0]!.map((v, b) => v + (b % 2 === 0 ? 0.5 : -0.5))); // an anomaly
    const before = tf.memory().numTensors;
    const [scored] = await lastValueFrom(
      of(cube(test, { frameId: 3 })).pipe(
        toTensorFrame(),
        rxScore(model, { modelVersion: 'rx-1' }),
        toArray(),
      ),
    );
    if (scored === undefined) throw new Error('no frame');
    expect(tf.memory().numTensors).toBe(before);
    expect([scored.frameId, scored.modelVersion, scored.scores.length]).toEqual([3, 'rx-1', 51]);
    // Float32 inputs, as the operator sees them.
    const want = test.map((row) =>
      mahalanobis(Array.from(Float32Array.from(row)), model.mean, model.covInverse),
    );
    const max = Math.max(...want);
    want.forEach((w, p) => {
      expect(Math.abs(scored.scores[p]! - w), `pixel ${p}: ${scored.scores[p]} vs ${w}`).toBeLessThanOrEqual(
        1e-5 * (w + max),
      );
    });
    expect(scored.scores[50]).toBeGreaterThan(100 * Math.max(...Array.from(scored.scores.subarray(0, 50))));
  });

  it('errors on a frame with the wrong band count, disposing it and its model tensors', async () => {
    const model = fitRx(new RxStats(2).add(Float32Array.of(0, 1, 1, 0, 2, 2)));
    const before = tf.memory().numTensors;
    const error = await lastValueFrom(
      from([cube([[1, 1]], { frameId: 1 }), cube([[1, 2, 3]], { frameId: 2 })]).pipe(
        toTensorFrame(),
        rxScore(model),
      ),
    ).catch((e: unknown) => e);
    expect(error).toEqual(new ChannelCountError('rxScore', 2, 3));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a model whose arrays do not fit its band count, when built', () => {
    const model = fitRx(new RxStats(2).add(Float32Array.of(0, 1, 1, 0, 2, 2)));
    expect(() => rxScore({ ...model, covInverse: new Float64Array(3) })).toThrow(
      new ModelParamsError('rx.covInverse', 'has 3 values, expected 2x2'),
    );
    expect(() => rxScore({ ...model, mean: Float64Array.of(0, Number.NaN) })).toThrow(
      'rx.mean[1]: NaN is not finite',
    );
  });
});
