import { from, lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedRxScore } from '../../operators/fused-rx-score.js';
import { rxScore } from '../../operators/rx-score.js';
import { toTensorFrame } from '../../operators/to-tensor-frame.js';
import { createFrame } from '../../src/core/frame.js';
import type { ScoredFrame } from '../../src/core/scored-frame.js';
import { ChannelCountError, ModelParamsError } from '../../src/model/model-errors.js';
import { fitRx, RxStats } from '../../src/model/rx-stats.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import { initEngine } from '../../src/scoring/engine.js';
import { loadGolden, toleranceRatio } from '../fixtures/golden/golden-fixture.js';

function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, rel: number, abs: number): void {
  const worst = toleranceRatio(got, ref, rel, abs);
  expect(worst.length[0], 'length').toBe(worst.length[1]);
  expect(worst.ratio, `worst at ${worst.index}: got ${worst.got}, ref ${worst.ref}`).toBeLessThanOrEqual(1);
}

const scoresOf = (frames: ScoredFrame[]): Float32Array =>
  Float32Array.from(frames.flatMap((frame) => Array.from(frame.scores)));

describe('fusedRxScore', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it('matches the golden rx.scores within 1e-5 relative (all 61 bands, model fitted on input.cube)', async () => {
    const golden = loadGolden();
    const frames = golden.frames('input.cube', golden.f32('input.wavelengths'));
    const stats = new RxStats(61);
    for (const frame of frames) stats.add(frame.data);
    const scored = await lastValueFrom(
      from(frames).pipe(fusedRxScore(fitRx(stats), { modelVersion: 'rx' }), toArray()),
    );
    expect(scored.map((f) => [f.frameId, f.height, f.width, f.modelVersion])).toEqual([
      [0, 8, 12, 'rx'],
      [1, 8, 12, 'rx'],
    ]);
    expectClose(scoresOf(scored), golden.f64('rx.scores'), 1e-5, 1e-5);
  });

  it('matches rxScore on tfjs for float32 frames and for the same values as uint16 counts, run in chunks', async () => {
    const random = seededRandom(3);
    const frames = Array.from({ length: 3 }, (_, i) =>
      createFrame({
        frameId: i,
        height: 6,
        width: 9,
        bands: 12,
        data: Float32Array.from({ length: 6 * 9 * 12 }, (_, k) =>
          Math.round(1000 + 300 * random() + 20 * (k % 12)),
        ),
      }),
    );
    const stats = new RxStats(12);
    for (const frame of frames) stats.add(frame.data);
    const model = fitRx(stats);
    const ref = await lastValueFrom(from(frames).pipe(toTensorFrame(), rxScore(model), toArray()));
    const got = await lastValueFrom(from(frames).pipe(fusedRxScore(model), toArray()));
    const counts = frames.map((f) => ({ ...f, data: Uint16Array.from(f.data) }));
    const fromCounts = await lastValueFrom(
      from(counts).pipe(fusedRxScore(model, { chunkPixels: 5 }), toArray()),
    );
    expectClose(scoresOf(got), scoresOf(ref), 1e-5, 1e-5);
    expectClose(scoresOf(fromCounts), scoresOf(got), 1e-6, 1e-6);
  });

  it('rejects a frame with another band count (ChannelCountError from rxScore) and a bad model at build time', async () => {
    const stats = new RxStats(4).add(Float32Array.from({ length: 40 }, (_, i) => (i * 7919) % 13));
    const model = fitRx(stats);
    const frame = createFrame({ height: 1, width: 2, bands: 5, data: new Float32Array(10) });
    const error = await lastValueFrom(from([frame]).pipe(fusedRxScore(model))).catch((e) => e);
    expect(error).toBeInstanceOf(ChannelCountError);
    expect(error).toMatchObject({ stage: 'rxScore', expected: 4, got: 5 });
    expect(() => fusedRxScore({ ...model, mean: new Float64Array(3) })).toThrow(ModelParamsError);
  });
});
