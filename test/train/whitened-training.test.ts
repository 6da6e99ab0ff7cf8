import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, of } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedDeepSvddScore } from '../../operators/fused-deep-svdd-score.js';
import { type CubeFrame, createFrame } from '../../src/core/frame.js';
import { fitRobustWhitening } from '../../src/model/robust-whitening.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { initEngine } from '../../src/scoring/engine.js';
import { DeepSvddVariables } from '../../src/train/deep-svdd-variables.js';
import { trainingStages } from '../../src/train/operator-stages.js';
import { scorePreprocessedPixels } from '../../src/train/score-pixels.js';
import { statisticalInit } from '../../src/train/statistical-init.js';
import { trainDeepSvdd } from '../../src/train/trainer.js';
import { paramsOfSnapshot } from '../../src/train/validation.js';

const BANDS = 8;
const K = 4;

/** One frame of correlated spectra (3 latent factors) with a few bright outliers. */
function frame(seed: number): CubeFrame {
  const random = seededRandom(seed);
  const height = 20;
  const width = 30;
  const data = new Float32Array(height * width * BANDS);
  for (let p = 0; p < height * width; p++) {
    const f = [random(), random(), random()];
    for (let b = 0; b < BANDS; b++) {
      const v = 100 + 30 * f[0]! * (1 + b / 4) + 10 * f[1]! * Math.sin(b) + 5 * f[2]! * (b % 3) + random();
      data[p * BANDS + b] = p % 97 === 5 ? v + 80 : v;
    }
  }
  return createFrame({
    height,
    width,
    bands: BANDS,
    wavelengths: Array.from({ length: BANDS }, (_, i) => i),
    wavelengthUnits: 'index',
    data,
    capturedAt: 0,
  });
}

async function* once(f: CubeFrame): AsyncGenerator<CubeFrame> {
  yield f;
}

describe('whitened residual Deep SVDD (issue 5)', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });
  const scene = frame(3);
  const init = () =>
    statisticalInit(() => once(scene), trainingStages, {
      preprocess: { unitNorm: false },
      hidden: 16,
      whiten: { components: K, trim: 0.02 },
      seed: 1,
    });

  it('starts at robust truncated RX: identity residual projection, centre 0', async () => {
    const start = await init();
    expect([start.whiten?.components, start.project.residual, start.project.rep]).toEqual([K, true, K]);
    expect([...start.center]).toEqual([0, 0, 0, 0]);
    const pixels = start.reservoir.pixels();
    const scores = scorePreprocessedPixels(trainingStages, start, pixels, BANDS);
    // Direct: the same robust whitening fitted on the raw pixels (no z-score), float64 sums.
    const direct = fitRobustWhitening(() => [scene.data], BANDS, { components: K, trim: 0.02 });
    const n = pixels.length / BANDS;
    for (let p = 0; p < n; p += 37) {
      let want = 0;
      for (let j = 0; j < K; j++) {
        let dot = 0;
        for (let i = 0; i < BANDS; i++)
          dot += (pixels[p * BANDS + i]! - direct.mean[i]!) * direct.matrix[j * BANDS + i]!;
        want += dot * dot;
      }
      expect(Math.abs(scores[p]! - want), `pixel ${p}`).toBeLessThan(1e-3 * (1 + want));
    }
  });

  it('trains the residual MLP with the trimmed one-class loss: the variables embed as the operators do', async () => {
    const start = await init();
    const before = tf.memory().numTensors;
    const result = await trainDeepSvdd(start, start.reservoir.toFrame(), {
      epochs: 2,
      batchSize: 128,
      stepsPerEpoch: 5,
      lr: 1e-2,
      centerAlpha: 0,
      loss: 'trimmed-one-class',
      trim: 0.02,
      schedule: [{ fromEpoch: 0, trainable: ['project'] }],
    });
    expect(tf.memory().numTensors).toBe(before);
    const { snapshot } = result;
    expect(result.steps).toBe(10);
    expect(result.history.every((h) => Number.isFinite(h.logs.loss))).toBe(true);
    expect(snapshot.whiten?.components).toBe(K);
    expect(snapshot.project.residual).toBe(true);
    expect(snapshot.project.W2.some((v) => v !== 0)).toBe(true); // it learned something
    expect([...snapshot.center]).toEqual([0, 0, 0, 0]); // centre fixed
    // DeepSvddVariables.embed (training) = zscore -> whiten -> residual projection (inference).
    const pixels = start.reservoir.pixels().subarray(0, 50 * BANDS);
    const model = DeepSvddVariables.create(snapshot);
    const z = tf.tidy(() => model.embed(tf.tensor2d(pixels, [50, BANDS])));
    const zs = z.dataSync();
    z.dispose();
    model.dispose();
    const scores = scorePreprocessedPixels(trainingStages, snapshot, pixels, BANDS);
    for (let p = 0; p < 50; p++) {
      let want = 0;
      for (let d = 0; d < K; d++) want += zs[p * K + d]! ** 2;
      expect(Math.abs(scores[p]! - want), `pixel ${p}`).toBeLessThan(1e-4 * (1 + want));
    }
    // The deployed scorers agree: tfjs chain and the fused ONNX graph, on the whole frame.
    const params = paramsOfSnapshot(
      { wavelengthsNm: scene.wavelengths, wavelengthUnits: 'index', unitNorm: false },
      snapshot,
    );
    const viaTfjs = await lastValueFrom(of(scene).pipe(trainingStages.deepSvdd(params)));
    const viaOnnx = await lastValueFrom(of(scene).pipe(fusedDeepSvddScore(params)));
    viaTfjs.scores.forEach((v, p) => {
      expect(Math.abs(viaOnnx.scores[p]! - v), `pixel ${p}`).toBeLessThan(1e-3 * (1 + v));
    });
  });
});
