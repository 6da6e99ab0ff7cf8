import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, map, of, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { perPixelUnitNorm } from '../../operators/per-pixel-unit-norm.js';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { ModelParamsError } from '../../src/model/model-errors.js';
import { initEngine } from '../../src/scoring/engine.js';
import { cube, marbles, plainPixels } from './tensor-frames.js';

const R = Math.round(Math.SQRT1_2 * 1e4) / 1e4;

describe('perPixelUnitNorm', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('centres each pixel and divides by its L2 norm, keeping order; a constant pixel becomes 0 (marbles)', () => {
    const before = tf.memory().numTensors;
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('-a-b--c|', {
        a: cube([[1, 3]], { frameId: 1 }),
        b: cube([[5, 5]], { frameId: 2 }),
        c: cube(
          [
            [10, 30],
            [0, 4],
          ],
          { frameId: 3 },
        ),
      });
      const out = source.pipe(
        toTensorFrame(),
        perPixelUnitNorm(),
        map((frame) => plainPixels(frame)),
      );
      expectObservable(out).toBe('-x-y--z|', {
        x: [[-R, R]],
        y: [[0, 0]],
        z: [
          [-R, R],
          [-R, R],
        ],
      });
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is scale- and offset-free per pixel and leaves unit-norm zero-mean rows', async () => {
    const spectrum = [0.1, 0.5, 0.2, 0.9, 0.3];
    const frame = cube([spectrum, spectrum.map((v) => 1000 * v + 7)]);
    const [rows] = await lastValueFrom(
      of(frame).pipe(
        toTensorFrame(),
        perPixelUnitNorm(),
        map((f) => plainPixels(f, 5)),
        toArray(),
      ),
    );
    expect(rows?.[1]).toEqual(rows?.[0]);
    const row = rows?.[0] ?? [];
    expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(0, 4);
    expect(Math.hypot(...row)).toBeCloseTo(1, 4);
  });

  it('rejects a non-positive eps when built', () => {
    expect(() => perPixelUnitNorm({ eps: 0 })).toThrow(
      new ModelParamsError('unitNorm.eps', '0 must be a positive number'),
    );
  });
});
