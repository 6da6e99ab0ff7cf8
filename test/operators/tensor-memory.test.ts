import * as tf from '@tensorflow/tfjs';
import { count, lastValueFrom, map, type Observable, range, take } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bandpassByWavelength } from '../../operators/bandpass-by-wavelength.js';
import { perPixelUnitNorm } from '../../operators/per-pixel-unit-norm.js';
import { projectEmbeddings } from '../../operators/project-embeddings.js';
import { scoreDistance } from '../../operators/score-distance.js';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { trackCenter } from '../../operators/track-center.js';
import { zscoreNormalize } from '../../operators/zscore-normalize.js';
import { type CubeFrame, createFrame } from '../../src/core/frame.js';
import type { ScoredFrame } from '../../src/core/scored-frame.js';
import { initProjection } from '../../src/model/deep-svdd-params.js';
import { ChannelCountError } from '../../src/model/model-errors.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { initEngine } from '../../src/scoring/engine.js';

const HEIGHT = 4;
const WIDTH = 8;
const BANDS = 61;
const WAVELENGTHS = Float32Array.from({ length: BANDS }, (_, i) => 430 + 8 * i); // 27 bands >= 700 nm
const KEPT = 27;

/**
 * `total` small random frames (4x8x61), generated lazily. Frame `badAt` comes from a camera with
 * 30 bands at 700-932 nm: the band-pass keeps all 30, and zscore (27 channels) must reject it.
 */
function frames(total: number, badAt = -1): Observable<CubeFrame> {
  const random = seededRandom(1);
  return range(0, total).pipe(
    map((i) => {
      const bands = i === badAt ? 30 : BANDS;
      const wavelengths =
        i === badAt ? Float32Array.from({ length: 30 }, (_, b) => 700 + 8 * b) : WAVELENGTHS;
      return createFrame({
        cameraId: i % 2 === 0 ? 'left' : 'right',
        frameId: i,
        capturedAt: 0,
        height: HEIGHT,
        width: WIDTH,
        bands,
        wavelengths,
        data: Float32Array.from({ length: HEIGHT * WIDTH * bands }, () => random()),
      });
    }),
  );
}

const weights = initProjection(KEPT, { seed: 2 });
const zscore = { mean: new Float32Array(KEPT), std: new Float32Array(KEPT).fill(0.2) };

function pipeline(source: Observable<CubeFrame>, gate: () => number): Observable<ScoredFrame> {
  return source.pipe(
    toTensorFrame(),
    bandpassByWavelength({ minNm: 700 }),
    perPixelUnitNorm(),
    zscoreNormalize(zscore),
    projectEmbeddings(weights),
    trackCenter({ center: new Float32Array(32), alpha: 0.01, mode: 'gated-ema', gate }),
    scoreDistance(),
  );
}

describe('tensor memory across the Deep SVDD chain', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('returns to the baseline tensor count after 5,000 frames', async () => {
    const baseline = tf.memory().numTensors;
    let tau = Number.POSITIVE_INFINITY;
    let peak = 0;
    const scored = await lastValueFrom(
      pipeline(frames(5000), () => tau).pipe(
        map((frame) => {
          expect(frame.scores).toHaveLength(HEIGHT * WIDTH);
          peak = Math.max(peak, tf.memory().numTensors - baseline);
          // Gate on this frame's median, so the gated branch sees both passing and failing pixels.
          tau = Array.from(frame.scores).sort((a, b) => a - b)[16] ?? tau;
          return frame;
        }),
        count(),
      ),
    );
    expect(scored).toBe(5000);
    // While running: parameter tensors and one cached index tensor, never a growing pile.
    expect(peak).toBeLessThanOrEqual(8);
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('returns to the baseline after a mid-stream error (a frame with a band count zscore does not expect)', async () => {
    const baseline = tf.memory().numTensors;
    let seen = 0;
    const error = await lastValueFrom(
      pipeline(frames(200, 100), () => Number.POSITIVE_INFINITY).pipe(
        map(() => {
          seen++;
          return seen;
        }),
      ),
    ).catch((e: unknown) => e);
    expect(seen).toBe(100);
    expect(error).toBeInstanceOf(ChannelCountError);
    expect(error).toMatchObject({ code: 'bands', stage: 'zscoreNormalize', expected: 27, got: 30 });
    expect((error as Error).message).toBe(
      'invalid frame: bands = 30: zscoreNormalize expects 27 channels (its parameters), got 30',
    );
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('returns to the baseline after an early unsubscribe (take(10))', async () => {
    const baseline = tf.memory().numTensors;
    const taken = await lastValueFrom(pipeline(frames(5000), () => 1).pipe(take(10), count()));
    expect(taken).toBe(10);
    expect(tf.memory().numTensors).toBe(baseline);
  });
});
