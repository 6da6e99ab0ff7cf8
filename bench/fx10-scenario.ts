import { lastValueFrom, Observable, toArray } from 'rxjs';
import { backpressure } from '../operators/backpressure.js';
import type { DecisionFrame } from '../operators/decide-anomalies.js';
import type { Uint16CubeFrame } from '../src/onnx/uint16-frame.js';
import { BlockRunner, nowMs, RssSampler, StageClock } from './block-runner.js';
import { type BenchEngine, type PipelineOptions, scoringPipeline } from './pipelines.js';
import { type ScenarioResult, scenarioResult } from './scenario-result.js';
import type { SyntheticCube } from './synthetic-cube.js';
import { cubeBlocks } from './xmr-scenario.js';

/** The FX10 line-scan camera: 330 lines/s of 1024 px x 224 bands, delivered in 64-line blocks. */
export const FX10 = { linesPerSecond: 330, width: 1024, bands: 224, blockLines: 64, minNm: 400, maxNm: 1000 };

/** Blocks that may wait behind the one being scored before the oldest is dropped. */
export const FX10_QUEUE_CAPACITY = 2;

/**
 * Emits `count` blocks paced in real time: block k when its last line is captured, at
 * `start + (k + 1)·blockLines / linesPerSecond`, stamped with that time as `capturedAt` (so a
 * source delayed by a busy event loop still counts the delay as latency).
 */
function pacedBlocks(templates: readonly Uint16CubeFrame[], count: number): Observable<Uint16CubeFrame> {
  const period = (1000 * FX10.blockLines) / FX10.linesPerSecond;
  return new Observable<Uint16CubeFrame>((subscriber) => {
    const start = nowMs();
    let k = 0;
    let timer: NodeJS.Timeout | undefined;
    const emitDue = (): void => {
      // A camera keeps capturing while the event loop is busy: every block whose last line is
      // captured by now arrives at once (as from a socket buffer), stamped with its capture time.
      while (k < count && start + (k + 1) * period <= nowMs()) {
        const template = templates[k % templates.length] as Uint16CubeFrame;
        subscriber.next({
          ...template,
          frameId: Math.floor((k * FX10.blockLines) / 1024),
          rowOffset: (k * FX10.blockLines) % 1024,
          totalRows: 1024,
          capturedAt: start + (k + 1) * period,
        });
        k++;
      }
      if (k >= count) subscriber.complete();
      else next();
    };
    const next = (): void => {
      timer = setTimeout(emitDue, Math.max(0, start + (k + 1) * period - nowMs()));
    };
    next();
    return () => clearTimeout(timer);
  });
}

/**
 * `fx10`: a line-scan camera paced in real time for `seconds`, a bounded queue
 * ({@link FX10_QUEUE_CAPACITY} blocks, drop oldest) between source and scorer. Latency runs
 * from the capture of a block's last line to its decision. Blocks are frames of 1024 lines
 * (16 blocks each), cut from a few distinct synthetic blocks.
 */
export async function runFx10(
  engine: BenchEngine,
  cube: SyntheticCube,
  seconds: number,
  options: PipelineOptions,
): Promise<ScenarioResult> {
  const templates = cubeBlocks(cube, 'fx10', 0, FX10.blockLines);
  const clock = new StageClock();
  const runner = new BlockRunner<Uint16CubeFrame, DecisionFrame>(scoringPipeline(engine, clock, options));
  for (const block of templates.slice(0, 2)) await runner.run({ ...block, frameId: 0, capturedAt: nowMs() });
  const warmClock = clock.perBlock(1);
  const count = Math.max(1, Math.round((seconds * FX10.linesPerSecond) / FX10.blockLines));
  const rss = new RssSampler();
  const latencies: number[] = [];
  let dropped = 0;
  let pixels = 0;
  const began = nowMs();
  await lastValueFrom(
    pacedBlocks(templates, count).pipe(
      backpressure(
        async (block: Uint16CubeFrame) => {
          const decision = await runner.run({ ...block, frameId: block.frameId + 1 });
          latencies.push(nowMs() - block.capturedAt);
          pixels += block.height * block.width;
          rss.sample();
          return decision;
        },
        { policy: 'dropOldest', capacity: FX10_QUEUE_CAPACITY, onDrop: () => dropped++ },
      ),
      toArray(),
    ),
  );
  const elapsed = (nowMs() - began) / 1000;
  const peakRssMb = rss.stop();
  await runner.close();
  return scenarioResult({
    name: 'fx10',
    engine,
    pixels,
    seconds: elapsed,
    latencies,
    peakRssMb,
    dropped: dropped,
    stageTotals: clock.perBlock(1),
    warmStageTotals: warmClock,
  });
}
