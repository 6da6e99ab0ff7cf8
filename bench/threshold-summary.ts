import { from, lastValueFrom, tap, toArray } from 'rxjs';
import { rollingQuantileThreshold } from '../operators/rolling-quantile-threshold.js';
import type { ScoredFrame } from '../src/core/scored-frame.js';
import { percentile } from './block-runner.js';

/**
 * What the rolling threshold costs on the latency path (τ of each new frame from the window),
 * `exact` against `ddsketch`, for FX10-sized blocks (65,536 scores) and a 50-frame window (the
 * service default). Prints ms per block and one JSON line.
 *
 * `node --import tsx bench/threshold-summary.ts`
 */
const BLOCKS = 120;
const results: Record<string, { p50: number; max: number }> = {};
for (const sketch of ['exact', 'ddsketch'] as const) {
  let seed = 1;
  const random = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const frames = Array.from(
    { length: BLOCKS },
    (_, i): ScoredFrame => ({
      cameraId: 'fx10',
      frameId: i,
      rowOffset: 0,
      totalRows: 64,
      capturedAt: 0,
      timings: {},
      height: 64,
      width: 1024,
      scores: Float32Array.from({ length: 65_536 }, () => 10 * random()),
    }),
  );
  const threshold = rollingQuantileThreshold({ q: 0.999, window: { frames: 50 }, seed: 5, sketch });
  const times: number[] = [];
  let started = 0;
  await lastValueFrom(
    from(frames).pipe(
      tap(() => {
        started = performance.now();
      }),
      threshold,
      tap(() => times.push(performance.now() - started)),
      toArray(),
    ),
  );
  const full = times.slice(60); // once the window is full
  results[sketch] = { p50: percentile(full, 0.5), max: Math.max(...full) };
  console.error(
    `${sketch.padEnd(8)} ${results[sketch].p50.toFixed(2)} ms p50, ${results[sketch].max.toFixed(2)} ms max per 65,536-score block to τ`,
  );
}
console.log(JSON.stringify({ window: 50, blockScores: 65_536, results }));
