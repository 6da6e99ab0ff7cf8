import * as tf from '@tensorflow/tfjs';
import { from, lastValueFrom, map, of, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bandpassByWavelength } from '../../operators/bandpass-by-wavelength.js';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import type { TensorFrame } from '../../src/core/tensor-frame.js';
import { ModelParamsError, WavelengthSelectionError } from '../../src/model/model-errors.js';
import { initEngine } from '../../src/scoring/engine.js';
import { cube, marbles, plainPixels } from './tensor-frames.js';

const WAVELENGTHS = [650, 700, 750, 800, 850];
const plain = (frame: TensorFrame) => ({
  id: frame.frameId,
  bands: frame.bands,
  wavelengths: Array.from(frame.wavelengths),
  pixels: plainPixels(frame),
});

describe('bandpassByWavelength', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('keeps min <= λ <= max in order, frame by frame, and completes (marbles)', () => {
    const before = tf.memory().numTensors;
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = cube([[1, 2, 3, 4, 5]], { frameId: 1, wavelengths: WAVELENGTHS });
      const b = cube([[6, 7, 8, 9, 10]], { frameId: 2, wavelengths: WAVELENGTHS });
      const source = cold('-a--b-|', { a, b });
      const out = source.pipe(toTensorFrame(), bandpassByWavelength({ minNm: 700, maxNm: 800 }), map(plain));
      const kept = { bands: 3, wavelengths: [700, 750, 800] };
      expectObservable(out).toBe('-x--y-|', {
        x: { id: 1, ...kept, pixels: [[2, 3, 4]] },
        y: { id: 2, ...kept, pixels: [[7, 8, 9]] },
      });
      expectSubscriptions(source.subscriptions).toBe('^-----!');
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('errors with a named error when no band is in range, disposing the frame and its cache (marbles)', () => {
    const before = tf.memory().numTensors;
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const ok = cube([[1, 2, 3, 4, 5]], { wavelengths: WAVELENGTHS });
      const visible = cube([[1, 2]], { frameId: 1, wavelengths: [450, 550] });
      const source = cold('-a-b-a-|', { a: ok, b: visible });
      const out = source.pipe(
        toTensorFrame(),
        bandpassByWavelength({ minNm: 700 }),
        map((f) => plainPixels(f)[0]?.length),
      );
      expectObservable(out).toBe(
        '-x-#',
        { x: 4 },
        new WavelengthSelectionError(
          'bandpassByWavelength',
          visible.wavelengths,
          'no band within [700, ∞] nm (frame spans 450-550 nm)',
        ),
      );
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects band indices (wavelengthUnits index) with reason wavelengths', async () => {
    const frame = cube([[1, 2]], { wavelengths: [0, 1], wavelengthUnits: 'index' });
    const error = await lastValueFrom(
      of(frame).pipe(toTensorFrame(), bandpassByWavelength({ minNm: 0 })),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WavelengthSelectionError);
    expect((error as WavelengthSelectionError).code).toBe('wavelengths');
    expect((error as Error).message).toMatch(/needs wavelengths in nm .* but the frame has band indices$/);
  });

  it('passes the tensor through untouched when every band is kept', async () => {
    const [frame] = await lastValueFrom(
      of(cube([[1, 2]], { wavelengths: [700, 710] })).pipe(
        toTensorFrame(),
        bandpassByWavelength({ minNm: 0 }),
        toArray(),
      ),
    );
    if (frame === undefined) throw new Error('no frame');
    expect(frame.bands).toBe(2);
    expect(plainPixels(frame)).toEqual([[1, 2]]);
  });

  it('slices contiguous bands, gathers scattered ones, caching index tensors until complete', async () => {
    const before = tf.memory().numTensors;
    const scattered = [700, 600, 800]; // keeps bands 0 and 2: gathered
    let during = 0;
    const frames = [
      cube([[1, 2, 3, 4, 5]], { wavelengths: WAVELENGTHS }),
      cube([[1, 2, 3, 4, 5]], { wavelengths: WAVELENGTHS }), // equal values, another array
      cube([[1, 2, 3]], { wavelengths: scattered }),
      cube([[1, 2, 3, 4, 5]], { wavelengths: WAVELENGTHS }),
      cube([[4, 5, 6]], { wavelengths: scattered }),
    ];
    const out = await lastValueFrom(
      from(frames).pipe(
        toTensorFrame(),
        bandpassByWavelength({ minNm: 700 }),
        map((frame) => {
          during = Math.max(during, tf.memory().numTensors - before);
          return plainPixels(frame);
        }),
        toArray(),
      ),
    );
    expect(out).toEqual([[[2, 3, 4, 5]], [[2, 3, 4, 5]], [[1, 3]], [[2, 3, 4, 5]], [[4, 6]]]);
    // The emitted frame plus the one cached index tensor (a slice needs none).
    expect(during).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects an invalid range when built', () => {
    expect(() => bandpassByWavelength({ minNm: 800, maxNm: 700 })).toThrow(
      new ModelParamsError('bandpass.maxNm', '700 must be >= minNm 800'),
    );
    expect(() => bandpassByWavelength({ minNm: Number.NaN })).toThrow('bandpass.minNm: NaN must be finite');
  });
});
