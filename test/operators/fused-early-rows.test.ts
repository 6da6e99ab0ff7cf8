import { setTimeout as sleep } from 'node:timers/promises';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrameScored, fusedDeepSvddScore } from '../../operators/fused-deep-svdd-score.js';
import { fusedRxScore } from '../../operators/fused-rx-score.js';
import { rollingQuantileThreshold } from '../../operators/rolling-quantile-threshold.js';
import type { RowsReady } from '../../src/core/rows-ready.js';
import { type DeepSvddParams, initProjection } from '../../src/model/deep-svdd-params.js';
import { fitRx, RxStats } from '../../src/model/rx-stats.js';
import { seededRandom } from '../../src/model/seeded-random.js';
import type { ChunkRunner } from '../../src/scoring/onnx/chunk-runner.js';
import { createChunkRunner } from '../../src/scoring/onnx/create-chunk-runner.js';
import type { Uint16CubeFrame } from '../../src/scoring/onnx/uint16-frame.js';

/** 24 bands 600-830 nm; the >= 700 nm band-pass keeps the last 14 (contiguous: the WASM prep runs). */
const WAVELENGTHS = Float32Array.from({ length: 24 }, (_, i) => 600 + 10 * i);
const KEPT = 14;
const HEIGHT = 16;
const WIDTH = 64;
const BANDS = WAVELENGTHS.length;
const ROW_VALUES = WIDTH * BANDS;

function params(): DeepSvddParams {
  const random = seededRandom(5);
  return {
    wavelengthsNm: WAVELENGTHS,
    bandpass: { minNm: 700 },
    unitNorm: true,
    zscore: {
      mean: Float32Array.from({ length: KEPT }, () => 0.05 * (random() - 0.5)),
      std: Float32Array.from({ length: KEPT }, () => 0.1 * (0.5 + random())),
    },
    project: initProjection(KEPT, { seed: 9, hidden: 16, rep: 8 }),
    center: Float32Array.from({ length: 8 }, () => 0.2 * (random() - 0.5)),
  };
}

/** Raw counts of block `k`: smooth spectra with noise, a few bright pixels. */
function blockCounts(k: number): Uint16Array {
  const random = seededRandom(100 + k);
  const data = new Uint16Array(HEIGHT * ROW_VALUES);
  for (let p = 0; p < HEIGHT * WIDTH; p++) {
    const level = (random() < 0.01 ? 9000 : 1500) * (1 + 0.2 * random());
    const slope = random() - 0.5;
    for (let b = 0; b < BANDS; b++)
      data[p * BANDS + b] = Math.round(level * (1 + slope * (b / BANDS)) + 40 * random());
  }
  return data;
}

function frameOf(k: number, data: Uint16Array): Uint16CubeFrame {
  return {
    cameraId: 'fx',
    frameId: k, // every block its own frame: the rolling τ moves after each
    rowOffset: 0,
    totalRows: HEIGHT,
    capturedAt: 1_700_000_000_000 + k,
    timings: {},
    height: HEIGHT,
    width: WIDTH,
    bands: BANDS,
    wavelengths: WAVELENGTHS,
    wavelengthUnits: 'nm',
    data,
  };
}

function rowsOf(data: Uint16Array, rows: number, wavelengths = WAVELENGTHS): RowsReady {
  return {
    cameraId: 'fx',
    height: HEIGHT,
    width: WIDTH,
    bands: BANDS,
    wavelengths,
    wavelengthUnits: 'nm',
    data,
    rows,
  };
}

/**
 * Two worker threads, started before the tests, as a service's scorer is warmed before its camera
 * opens: the first block's rows are scored ahead instead of waiting for workers to start. The
 * scorers of this file share it (their graphs have keys of their own).
 */
let pool: ChunkRunner;
beforeAll(async () => {
  pool = createChunkRunner({ workers: 2 });
  await pool.ready();
});
afterAll(() => pool.close());

/** A scorer with gated-EMA centre tracking fed by a rolling threshold, as the service wires it. */
function harness(workers: number, earlyRows?: Subject<RowsReady>) {
  const frames = new Subject<Uint16CubeFrame>();
  const threshold = rollingQuantileThreshold({ q: 0.95, window: { frames: 3 }, seed: 50, minSamples: 100 });
  const scored: FrameScored[] = [];
  const centers: Float32Array[] = [];
  const out: { scores: Float32Array; threshold: number }[] = [];
  const waiting: (() => void)[] = [];
  frames
    .pipe(
      fusedDeepSvddScore(params(), {
        centerMode: 'gated-ema',
        alpha: 0.2,
        gate: (camera) => threshold.state.current(camera),
        workers,
        threads: 1,
        ...(workers === 0 ? {} : { runner: pool }),
        chunkPixels: 128,
        ...(earlyRows === undefined ? {} : { earlyRows }),
        onScored: (s) => scored.push(s),
        onUpdate: (center) => centers.push(center),
      }),
      threshold,
    )
    .subscribe((frame) => {
      out.push({ scores: frame.scores, threshold: frame.threshold });
      waiting.shift()?.();
    });
  /** Sends a frame and resolves once its decision is out. */
  const score = (frame: Uint16CubeFrame): Promise<void> =>
    new Promise((resolve) => {
      waiting.push(resolve);
      frames.next(frame);
    });
  return { score, scored, centers, out, close: () => frames.complete() };
}

/** Fills `data` with `counts` three rows at a time, publishing each step on `rows` when given. */
async function capture(data: Uint16Array, counts: Uint16Array, rows?: Subject<RowsReady>): Promise<void> {
  for (let r = 0; r < HEIGHT; r += 3) {
    const end = Math.min(HEIGHT, r + 3);
    data.set(counts.subarray(r * ROW_VALUES, end * ROW_VALUES), r * ROW_VALUES);
    rows?.next(rowsOf(data, end));
    await sleep(3);
  }
}

/** The same blocks sent whole to a scorer whose source never publishes rows. */
async function reference(workers: number, blocks: number) {
  const h = harness(workers, new Subject<RowsReady>());
  for (let k = 0; k < blocks; k++) await h.score(frameOf(k, blockCounts(k)));
  h.close();
  return h;
}

describe('fusedDeepSvddScore with early rows', () => {
  it.each([0, 2])(
    'scores rows as they are captured, bit for bit as whole blocks: scores, τ and centres (workers %i)',
    async (workers) => {
      const blocks = 6;
      const ref = await reference(workers, blocks);
      const rows = new Subject<RowsReady>();
      const h = harness(workers, rows);
      for (let k = 0; k < blocks; k++) {
        const data = new Uint16Array(HEIGHT * ROW_VALUES);
        await capture(data, blockCounts(k), rows);
        await h.score(frameOf(k, data));
      }
      h.close();
      expect(h.out.map((o) => o.threshold)).toEqual(ref.out.map((o) => o.threshold));
      for (const [k, o] of h.out.entries()) expect(o.scores, `block ${k}`).toEqual(ref.out[k]?.scores);
      expect(h.centers).toEqual(ref.centers);
      // The first three rows (192 px >= one 128-px chunk) start a run at once, and the frame waits for it.
      for (const s of h.scored) {
        expect(s.pixels).toBe(HEIGHT * WIDTH);
        expect(s.earlyPixels).toBeGreaterThanOrEqual(3 * WIDTH);
      }
      expect(h.scored.reduce((n, s) => n + s.earlyPixels, 0)).toBeGreaterThan(0.5 * blocks * HEIGHT * WIDTH);
    },
  );

  it('scores again rows scored under a centre that a later frame moved', async () => {
    const ref = await reference(2, 2);
    const rows = new Subject<RowsReady>();
    const h = harness(2, rows);
    const first = new Uint16Array(HEIGHT * ROW_VALUES);
    const second = new Uint16Array(HEIGHT * ROW_VALUES);
    await capture(first, blockCounts(0), rows);
    // The second block is captured whole, and scored ahead under the first block's centre...
    await capture(second, blockCounts(1), rows);
    await h.score(frameOf(0, first));
    // ...which the first block then moved: its rows are scored again before its frame claims them.
    await sleep(20);
    await h.score(frameOf(1, second));
    h.close();
    for (const [k, o] of h.out.entries()) expect(o.scores, `block ${k}`).toEqual(ref.out[k]?.scores);
    expect(h.centers).toEqual(ref.centers);
    expect(h.scored[1]?.earlyPixels).toBe(HEIGHT * WIDTH);
  });

  it('forgets a reused buffer, a dropped block and rows that fail, and scores those frames whole', async () => {
    const ref = await reference(2, 3);
    const rows = new Subject<RowsReady>();
    const h = harness(2, rows);
    const buffer = new Uint16Array(HEIGHT * ROW_VALUES);
    // Block 0 is captured and scored ahead, but its frame never comes (dropped by a queue)...
    await capture(buffer, blockCounts(7), rows);
    // ...and the camera reuses its buffer for the block that does come.
    await capture(buffer, blockCounts(0), rows);
    await h.score(frameOf(0, buffer));
    expect(h.scored[0]?.earlyPixels).toBeGreaterThan(0);
    // Rows published with a wrong wavelength vector fail to score: the frame scores the block whole.
    const bad = blockCounts(1);
    rows.next(rowsOf(bad, HEIGHT, WAVELENGTHS.subarray(1)));
    await sleep(10);
    await h.score(frameOf(1, bad));
    expect(h.scored[1]?.earlyPixels).toBe(0);
    // A block captured after a dropped one (whose rows were all in) is still scored ahead.
    const dropped = new Uint16Array(HEIGHT * ROW_VALUES);
    await capture(dropped, blockCounts(8), rows);
    const next = new Uint16Array(HEIGHT * ROW_VALUES);
    await capture(next, blockCounts(2), rows);
    await h.score(frameOf(2, next));
    expect(h.scored[2]?.earlyPixels).toBeGreaterThan(0);
    h.close();
    for (const [k, o] of h.out.entries()) expect(o.scores, `block ${k}`).toEqual(ref.out[k]?.scores);
    expect(h.centers).toEqual(ref.centers);
  });

  it('scores RX rows ahead too, bit for bit as whole blocks', async () => {
    const stats = new RxStats(BANDS);
    for (let k = 10; k < 12; k++) stats.add(Float32Array.from(blockCounts(k)));
    const model = fitRx(stats);
    const score = async (rows?: Subject<RowsReady>) => {
      const frames = new Subject<Uint16CubeFrame>();
      const scored: FrameScored[] = [];
      const out: Float32Array[] = [];
      frames
        .pipe(
          fusedRxScore(model, {
            runner: pool,
            chunkPixels: 128,
            earlyRows: rows ?? new Subject<RowsReady>(),
            onScored: (s) => scored.push(s),
          }),
        )
        .subscribe((frame) => out.push(frame.scores));
      for (let k = 0; k < 3; k++) {
        const data = new Uint16Array(HEIGHT * ROW_VALUES);
        await capture(data, blockCounts(k), rows);
        frames.next(frameOf(k, data));
        while (out.length <= k) await sleep(2);
      }
      frames.complete();
      return { out, scored };
    };
    const whole = await score();
    const early = await score(new Subject<RowsReady>());
    expect(whole.scored.every((s) => s.earlyPixels === 0)).toBe(true);
    for (const s of early.scored) expect(s.earlyPixels).toBeGreaterThanOrEqual(3 * WIDTH);
    expect(early.out).toEqual(whole.out);
  });
});
