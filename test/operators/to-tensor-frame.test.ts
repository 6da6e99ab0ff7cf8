import * as tf from '@tensorflow/tfjs';
import { firstValueFrom, of } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { InvalidFrameError } from '../../src/core/frame.js';
import { disposeTensorFrame } from '../../src/core/tensor-frame.js';
import { initEngine } from '../../src/scoring/engine.js';
import { cube, plainPixels } from './tensor-frames.js';

describe('toTensorFrame', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('uploads [height*width, bands] float32 and keeps every other field', async () => {
    const source = cube(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { cameraId: 'line7', frameId: 9, labels: Uint8Array.of(0, 3) },
    );
    const frame = await firstValueFrom(of(source).pipe(toTensorFrame()));
    expect(frame.pixels.shape).toEqual([2, 3]);
    expect(frame.pixels.dtype).toBe('float32');
    expect('data' in frame).toBe(false);
    const { data: _data, ...rest } = source;
    expect({ ...frame, pixels: undefined }).toEqual({ ...rest, pixels: undefined });
    expect(plainPixels(frame)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('rejects data of the wrong length with a shape error, creating no tensor', async () => {
    const before = tf.memory().numTensors;
    const bad = { ...cube([[1, 2]]), data: new Float32Array(3) };
    const error = await firstValueFrom(of(bad).pipe(toTensorFrame())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidFrameError);
    expect((error as InvalidFrameError).code).toBe('shape');
    expect((error as Error).message).toBe(
      'invalid frame: data = Float32Array(3): must be a Float32Array of height*width*bands = 1*1*2 values',
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('disposeTensorFrame releases the tensor and is safe twice', async () => {
    const before = tf.memory().numTensors;
    const frame = await firstValueFrom(of(cube([[1]])).pipe(toTensorFrame()));
    expect(tf.memory().numTensors).toBe(before + 1);
    disposeTensorFrame(frame);
    disposeTensorFrame(frame);
    expect(tf.memory().numTensors).toBe(before);
  });
});
