import * as tf from '@tensorflow/tfjs';
import { from, lastValueFrom, map, of, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { checkWhitening, whiten } from '../../operators/whiten.js';
import { disposeTensorFrame } from '../../src/core/tensor-frame.js';
import { ChannelCountError, ModelParamsError } from '../../src/model/model-errors.js';
import type { WhiteningParams } from '../../src/model/robust-whitening.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { initEngine } from '../../src/scoring/engine.js';
import { cube } from './tensor-frames.js';

function params(c: number, k: number, seed: number): WhiteningParams {
  const random = seededRandom(seed);
  return {
    mean: Float32Array.from({ length: c }, () => 2 * random() - 1),
    matrix: Float32Array.from({ length: k * c }, () => 2 * random() - 1),
    components: k,
  };
}

describe('whiten', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('maps each pixel to (x - μ)·Mᵀ, emitting k index channels, and releases its tensors', async () => {
    const c = 9;
    const k = 4;
    const p = params(c, k, 3);
    const random = seededRandom(8);
    const rows = Array.from({ length: 25 }, () => Array.from({ length: c }, () => 6 * random() - 3));
    const before = tf.memory().numTensors;
    const [frame] = await lastValueFrom(of(cube(rows)).pipe(toTensorFrame(), whiten(p), toArray()));
    if (frame === undefined) throw new Error('no frame');
    expect([frame.bands, frame.wavelengthUnits, Array.from(frame.wavelengths)]).toEqual([
      k,
      'index',
      [0, 1, 2, 3],
    ]);
    const y = frame.pixels.dataSync();
    disposeTensorFrame(frame);
    rows.forEach((row, n) => {
      for (let j = 0; j < k; j++) {
        let want = 0;
        for (let i = 0; i < c; i++) want += (row[i]! - p.mean[i]!) * p.matrix[j * c + i]!;
        expect(Math.abs(y[n * k + j]! - want), `pixel ${n} component ${j}`).toBeLessThan(
          1e-5 * (1 + Math.abs(want)),
        );
      }
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('errors on a frame with the wrong band count, leaking no tensor', async () => {
    const p = params(3, 2, 1);
    const before = tf.memory().numTensors;
    const error = await lastValueFrom(
      from([cube([[1, 2, 3]]), cube([[1, 2]], { frameId: 1 })]).pipe(
        toTensorFrame(),
        whiten(p),
        map((frame) => disposeTensorFrame(frame)),
        toArray(),
      ),
    ).catch((e: unknown) => e);
    expect(error).toEqual(new ChannelCountError('whiten', 3, 2));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects parameters that do not fit together or are not finite, when built', () => {
    const p = params(3, 2, 1);
    expect(checkWhitening(p)).toEqual({ channels: 3, components: 2 });
    expect(() => whiten({ ...p, matrix: new Float32Array(5) })).toThrow(
      'model parameter whiten.matrix: has 5 values, expected [2, 3]',
    );
    expect(() => whiten({ ...p, components: 0 })).toThrow(ModelParamsError);
    expect(() => whiten({ ...p, mean: Float32Array.of(0, Number.NaN, 0) })).toThrow(
      'model parameter whiten.mean[1]: NaN is not finite',
    );
  });
});
