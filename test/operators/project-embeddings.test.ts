import * as tf from '@tensorflow/tfjs';
import { from, lastValueFrom, map, of, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectEmbeddings } from '../../operators/project-embeddings.js';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { disposeTensorFrame } from '../../src/core/tensor-frame.js';
import { initProjection, initResidualProjection } from '../../src/model/deep-svdd-params.js';
import { ChannelCountError, ModelParamsError } from '../../src/model/model-errors.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { initEngine } from '../../src/scoring/engine.js';
import { cube } from './tensor-frames.js';

/** z = W2 · relu(W1 x + b1) in float64, W (out, in) row-major. */
function reference(x: readonly number[], w: ReturnType<typeof initProjection>, c: number): number[] {
  const h = Array.from({ length: w.hidden }, (_, j) => {
    let s = w.b1[j]!;
    for (let i = 0; i < c; i++) s += w.W1[j * c + i]! * x[i]!;
    return Math.max(0, s);
  });
  return Array.from({ length: w.rep }, (_, d) => h.reduce((s, v, j) => s + w.W2[d * w.hidden + j]! * v, 0));
}

describe('projectEmbeddings', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('maps each pixel to W2 · relu(W1 x + b1), emitting D index channels', async () => {
    const c = 7;
    const weights = initProjection(c, { hidden: 16, rep: 5, seed: 11 });
    const random = seededRandom(5);
    const rows = Array.from({ length: 40 }, () => Array.from({ length: c }, () => 4 * random() - 2));
    const before = tf.memory().numTensors;
    const [frame] = await lastValueFrom(
      of(cube(rows)).pipe(toTensorFrame(), projectEmbeddings(weights), toArray()),
    );
    if (frame === undefined) throw new Error('no frame');
    expect([frame.bands, frame.wavelengthUnits, Array.from(frame.wavelengths)]).toEqual([
      5,
      'index',
      [0, 1, 2, 3, 4],
    ]);
    expect(frame.pixels.shape).toEqual([40, 5]);
    const z = frame.pixels.dataSync();
    disposeTensorFrame(frame);
    rows.forEach((row, p) => {
      reference(row, weights, c).forEach((want, d) => {
        expect(Math.abs(z[p * 5 + d]! - want), `pixel ${p} dim ${d}`).toBeLessThan(
          1e-5 * (1 + Math.abs(want)),
        );
      });
    });
    // Its weight tensors were released on complete.
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps order across frames and errors on a wrong band count, releasing everything', async () => {
    const weights = initProjection(3, { hidden: 4, rep: 2, seed: 1 });
    const before = tf.memory().numTensors;
    const frames = [
      cube([[1, 2, 3]], { frameId: 1 }),
      cube([[1, 2, 3]], { frameId: 2 }),
      cube([[1, 2]], { frameId: 3 }),
    ];
    const seen: number[] = [];
    const error = await lastValueFrom(
      from(frames).pipe(
        toTensorFrame(),
        projectEmbeddings(weights),
        map((frame) => {
          seen.push(frame.frameId);
          disposeTensorFrame(frame);
          return frame.frameId;
        }),
      ),
    ).catch((e: unknown) => e);
    expect(seen).toEqual([1, 2]);
    expect(error).toEqual(new ChannelCountError('projectEmbeddings', 3, 2));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects weights that do not fit together or are not finite, when built', () => {
    expect(() =>
      projectEmbeddings({ W1: new Float32Array(5), b1: new Float32Array(2), W2: new Float32Array(4) }),
    ).toThrow(ModelParamsError);
    const w = initProjection(2, { hidden: 2, rep: 1 });
    expect(() => projectEmbeddings({ ...w, b1: Float32Array.of(0, Number.POSITIVE_INFINITY) })).toThrow(
      'model parameter project.b1[1]: Infinity is not finite',
    );
  });
});

describe('projectEmbeddings (residual)', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('is the identity at init (W2 = 0) and adds W2 · relu(W1 x + b1) to x once trained', async () => {
    const c = 6;
    const init = initResidualProjection(c, { hidden: 8, seed: 2 });
    expect([init.rep, init.residual, init.b1.every((v) => v === 0), init.W2.every((v) => v === 0)]).toEqual([
      c,
      true,
      true,
      true,
    ]);
    const random = seededRandom(9);
    const rows = Array.from({ length: 12 }, () => Array.from({ length: c }, () => 4 * random() - 2));
    const trained = { ...init, W2: Float32Array.from(init.W2, () => random() - 0.5) };
    const before = tf.memory().numTensors;
    for (const [weights, label] of [
      [init, 'init'],
      [trained, 'trained'],
    ] as const) {
      const [frame] = await lastValueFrom(
        of(cube(rows)).pipe(toTensorFrame(), projectEmbeddings(weights), toArray()),
      );
      if (frame === undefined) throw new Error('no frame');
      const z = frame.pixels.dataSync();
      disposeTensorFrame(frame);
      rows.forEach((row, p) => {
        const f = reference(row, weights, c);
        f.forEach((v, d) => {
          const want = row[d]! + v;
          expect(Math.abs(z[p * c + d]! - want), `${label} pixel ${p} dim ${d}`).toBeLessThan(
            1e-5 * (1 + Math.abs(want)),
          );
        });
      });
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a residual projection whose D differs from C', () => {
    const w = initProjection(4, { hidden: 3, rep: 2 });
    expect(() => projectEmbeddings({ ...w, residual: true })).toThrow(
      'model parameter project.rep: a residual projection needs D = C = 4, got 2',
    );
  });
});
