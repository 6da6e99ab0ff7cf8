import * as tf from '@tensorflow/tfjs';
import { from, lastValueFrom, type OperatorFunction, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bandpassByWavelength } from '../../operators/bandpass-by-wavelength.js';
import { perPixelUnitNorm } from '../../operators/per-pixel-unit-norm.js';
import { projectEmbeddings } from '../../operators/project-embeddings.js';
import { rxScore } from '../../operators/rx-score.js';
import { scoreDistance } from '../../operators/score-distance.js';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { trackCenter } from '../../operators/track-center.js';
import { zscoreNormalize } from '../../operators/zscore-normalize.js';
import type { CubeFrame } from '../../src/core/frame.js';
import type { ScoredFrame } from '../../src/core/scored-frame.js';
import { disposeTensorFrame, type TensorFrame } from '../../src/core/tensor-frame.js';
import { meanEmbedding } from '../../src/model/deep-svdd-params.js';
import { RunningStats } from '../../src/model/running-stats.js';
import { fitRx, RxStats } from '../../src/model/rx-stats.js';
import { initEngine } from '../../src/scoring/engine.js';
import { type Golden, loadGolden, toleranceRatio } from '../fixtures/golden/golden-fixture.js';

const REL = 1e-5;

/** Asserts the golden tolerance and prints the worst element when it fails. */
function expectGolden(got: ArrayLike<number>, ref: ArrayLike<number>, rel = REL, abs = REL): void {
  const worst = toleranceRatio(got, ref, rel, abs);
  expect(worst.length[0], 'length').toBe(worst.length[1]);
  expect(worst.ratio, `worst at ${worst.index}: got ${worst.got}, ref ${worst.ref}`).toBeLessThanOrEqual(1);
}

/** Runs golden frames through `stage` and returns the output pixels, concatenated, disposing the frames. */
async function runPixels(
  frames: CubeFrame[],
  stage: OperatorFunction<TensorFrame, TensorFrame>,
): Promise<{ pixels: Float32Array; out: TensorFrame[] }> {
  const out = await lastValueFrom(from(frames).pipe(toTensorFrame(), stage, toArray()));
  const parts = out.map((frame) => frame.pixels.dataSync() as Float32Array);
  out.forEach(disposeTensorFrame);
  const pixels = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => {
    pixels.set(p, offset);
    return offset + p.length;
  }, 0);
  return { pixels, out };
}

function concatScores(frames: ScoredFrame[]): Float32Array {
  return Float32Array.from(frames.flatMap((frame) => Array.from(frame.scores)));
}

describe('golden parity (test/fixtures/golden, 2 images 8x12x61)', () => {
  let golden: Golden;
  let wavelengths: Float32Array;
  let kept: Float32Array;

  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
    golden = loadGolden();
    wavelengths = golden.f32('input.wavelengths');
    kept = wavelengths.filter((w) => w >= 700);
  });

  it('bandpassByWavelength({ minNm: 700 }) matches bandpass.out and keeps 27 bands in order', async () => {
    const { pixels, out } = await runPixels(
      golden.frames('input.cube', wavelengths),
      bandpassByWavelength({ minNm: 700 }),
    );
    expect(out[0]?.bands).toBe(27);
    expect(Array.from(out[0]?.wavelengths ?? [])).toEqual(Array.from(kept));
    expectGolden(pixels, golden.f32('bandpass.out'));
  });

  it('perPixelUnitNorm() matches unitnorm.out', async () => {
    const { pixels } = await runPixels(golden.frames('bandpass.out', kept), perPixelUnitNorm());
    expectGolden(pixels, golden.f32('unitnorm.out'));
  });

  it('RunningStats over both images matches zscore.mean and zscore.std', () => {
    const stats = new RunningStats();
    for (const frame of golden.frames('unitnorm.out', kept)) stats.add(frame.data, frame.bands);
    expect(stats.count).toBe(2 * 8 * 12);
    expectGolden(stats.mean, golden.f32('zscore.mean'));
    expectGolden(stats.std(), golden.f32('zscore.std'));
  });

  it('zscoreNormalize(golden mean/std) matches zscore.out', async () => {
    const stage = zscoreNormalize({ mean: golden.f32('zscore.mean'), std: golden.f32('zscore.std') });
    const { pixels } = await runPixels(golden.frames('unitnorm.out', kept), stage);
    expectGolden(pixels, golden.f32('zscore.out'));
  });

  it('projectEmbeddings(golden W1, b1, W2) matches project.out', async () => {
    const stage = projectEmbeddings({
      W1: golden.f32('project.W1'),
      b1: golden.f32('project.b1'),
      W2: golden.f32('project.W2'),
    });
    const { pixels, out } = await runPixels(golden.frames('zscore.out', kept), stage);
    expect(out[0]?.bands).toBe(32);
    expectGolden(pixels, golden.f32('project.out'));
  });

  it('meanEmbedding over both images matches center.init', () => {
    const embeddings = golden.frames('project.out').map((frame) => frame.data);
    expectGolden(meanEmbedding(embeddings, 32), golden.f32('center.init'));
  });

  it('trackCenter(frozen, center.init) + scoreDistance() matches score.out', async () => {
    const scored = await lastValueFrom(
      from(golden.frames('project.out')).pipe(
        toTensorFrame(),
        trackCenter({ center: golden.f32('center.init') }),
        scoreDistance({ modelVersion: 'golden' }),
        toArray(),
      ),
    );
    expect(scored.map((frame) => [frame.frameId, frame.height, frame.width, frame.modelVersion])).toEqual([
      [0, 8, 12, 'golden'],
      [1, 8, 12, 'golden'],
    ]);
    expectGolden(concatScores(scored), golden.f32('score.out'));
  });

  it('trackCenter(ema, alpha 0.1) over train.z moves the centre to center.after_train_step', async () => {
    const z = golden.f32('train.z');
    const batch = golden.frames('train.z')[0];
    if (batch === undefined) throw new Error('no golden frame');
    // Both images as one 16x12 batch, as the training step averages over the whole batch.
    const frame: CubeFrame = { ...batch, height: 16, totalRows: 16, data: z, labels: new Uint8Array(192) };
    const updates: Float32Array[] = [];
    const scored = await lastValueFrom(
      from([frame]).pipe(
        toTensorFrame(),
        trackCenter({
          center: golden.f32('center.init'),
          alpha: 0.1,
          mode: 'ema',
          onUpdate: (center) => updates.push(center),
        }),
        toArray(),
      ),
    );
    // The frame is scored against the centre before the update.
    expectGolden(scored[0]?.center ?? [], golden.f32('center.init'));
    scored.forEach(disposeTensorFrame);
    expect(updates).toHaveLength(1);
    expectGolden(updates[0] ?? [], golden.f32('center.after_train_step'));
  });

  it('RxStats + fitRx + rxScore match rx.mu, rx.cov and rx.scores (all 61 bands)', async () => {
    const stats = new RxStats(61);
    const frames = golden.frames('input.cube', wavelengths);
    for (const frame of frames) stats.add(frame.data);
    expectGolden(stats.mean(), golden.f64('rx.mu'));
    expectGolden(stats.covariance(), golden.f64('rx.cov'));
    const scored = await lastValueFrom(from(frames).pipe(toTensorFrame(), rxScore(fitRx(stats)), toArray()));
    expectGolden(concatScores(scored), golden.f64('rx.scores'));
  });

  it('the whole chain from input.cube, statistics included, matches score.out within 1e-4·max', async () => {
    const frames = golden.frames('input.cube', wavelengths);
    const normalised = await lastValueFrom(
      from(frames).pipe(toTensorFrame(), bandpassByWavelength({ minNm: 700 }), perPixelUnitNorm(), toArray()),
    );
    const stats = new RunningStats();
    for (const frame of normalised) stats.add(frame.pixels.dataSync() as Float32Array, frame.bands);
    normalised.forEach(disposeTensorFrame);
    const weights = {
      W1: golden.f32('project.W1'),
      b1: golden.f32('project.b1'),
      W2: golden.f32('project.W2'),
    };
    const front = (): OperatorFunction<CubeFrame, TensorFrame> => (source) =>
      source.pipe(
        toTensorFrame(),
        bandpassByWavelength({ minNm: 700 }),
        perPixelUnitNorm(),
        zscoreNormalize(stats.toZscore()),
        projectEmbeddings(weights),
      );
    const embedded = await lastValueFrom(from(frames).pipe(front(), toArray()));
    const center = meanEmbedding(
      embedded.map((frame) => frame.pixels.dataSync() as Float32Array),
      32,
    );
    embedded.forEach(disposeTensorFrame);
    expectGolden(center, golden.f32('center.init'), 0, 1e-4);
    const scored = await lastValueFrom(
      from(frames).pipe(front(), trackCenter({ center }), scoreDistance(), toArray()),
    );
    expectGolden(concatScores(scored), golden.f32('score.out'), 0, 1e-4);
    expect(tf.memory().numTensors).toBeLessThan(50);
  });
});
