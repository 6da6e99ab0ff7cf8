import { lastValueFrom, Observable, Subject, toArray } from 'rxjs';
import { backpressure } from '../operators/backpressure.js';
import type { DecidedFrame } from '../src/core/decision.js';
import type { RowsReady } from '../src/core/rows-ready.js';
import type { Uint16CubeFrame } from '../src/scoring/onnx/uint16-frame.js';
import { BlockRunner, nowMs, RssSampler, StageClock } from './block-runner.js';
import { type BenchEngine, type PipelineOptions, scoringPipeline } from './pipelines.js';
import { type ScenarioResult, scenarioResult } from './scenario-result.js';
import type { SyntheticCube } from './synthetic-cube.js';
import { cubeBlocks } from './xmr-scenario.js';

/** The FX10 line-scan camera: 330 lines/s of 1024 px x 224 bands, delivered in 64-line blocks. */
export const FX10 = { linesPerSecond: 330, width: 1024, bands: 224, blockLines: 64, minNm: 400, maxNm: 1000 };

/** Blocks that may wait behind the one being scored before the oldest is dropped. */
export const FX10_QUEUE_CAPACITY = 2;

/** Block buffers the camera fills in turn (queue + one being scored + one being filled, and spare). */
const RING_BLOCKS = FX10_QUEUE_CAPACITY + 4;

/**
 * A line-scan camera paced in real time: line `i` is captured at `start + (i + 1) / linesPerSecond`
 * and copied into its block's buffer (a ring of {@link RING_BLOCKS}, as a camera driver's); a
 * block is emitted when its last line is in, stamped with that line's time as `capturedAt` (so a
 * source delayed by a busy event loop still counts the delay as latency). With `rows`, the
 * progress of the block being filled is published there as lines arrive ({@link RowsReady}).
 * Lines are cut from the `count` blocks' templates in turn.
 */
function pacedLines(
  templates: readonly Uint16CubeFrame[],
  count: number,
  rows: Subject<RowsReady> | undefined,
): Observable<Uint16CubeFrame> {
  const linePeriod = 1000 / FX10.linesPerSecond;
  const lineValues = FX10.width * FX10.bands;
  const ring = Array.from({ length: RING_BLOCKS }, () => new Uint16Array(FX10.blockLines * lineValues));
  return new Observable<Uint16CubeFrame>((subscriber) => {
    const start = nowMs();
    const lines = count * FX10.blockLines;
    let line = 0;
    let timer: NodeJS.Timeout | undefined;
    const captureDue = (): void => {
      // A camera keeps capturing while the event loop is busy: every line captured by now
      // arrives at once (as from a socket buffer).
      const before = line;
      while (line < lines && start + (line + 1) * linePeriod <= nowMs()) {
        const k = Math.floor(line / FX10.blockLines);
        const row = line % FX10.blockLines;
        const template = templates[k % templates.length] as Uint16CubeFrame;
        const data = ring[k % RING_BLOCKS] as Uint16Array;
        data.set(template.data.subarray(row * lineValues, (row + 1) * lineValues), row * lineValues);
        line++;
        if (row === FX10.blockLines - 1) {
          subscriber.next({
            ...template,
            data,
            frameId: Math.floor((k * FX10.blockLines) / 1024),
            rowOffset: (k * FX10.blockLines) % 1024,
            totalRows: 1024,
            capturedAt: start + line * linePeriod,
          });
        }
      }
      const filled = line % FX10.blockLines;
      if (rows !== undefined && line > before && filled > 0) {
        const template = templates[0] as Uint16CubeFrame;
        rows.next({
          cameraId: template.cameraId,
          height: FX10.blockLines,
          width: FX10.width,
          bands: FX10.bands,
          wavelengths: template.wavelengths,
          wavelengthUnits: template.wavelengthUnits,
          data: ring[Math.floor(line / FX10.blockLines) % RING_BLOCKS] as Uint16Array,
          rows: filled,
        });
      }
      if (line >= lines) subscriber.complete();
      else timer = setTimeout(captureDue, Math.max(0, start + (line + 1) * linePeriod - nowMs()));
    };
    timer = setTimeout(captureDue, linePeriod);
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
  options: PipelineOptions & { readonly wholeBlocks?: boolean },
): Promise<ScenarioResult> {
  const templates = cubeBlocks(cube, 'fx10', 0, FX10.blockLines);
  const clock = new StageClock();
  const rows = engine === 'onnx' && options.wholeBlocks !== true ? new Subject<RowsReady>() : undefined;
  let early = 0;
  let total = 0;
  const runner = new BlockRunner<Uint16CubeFrame, DecidedFrame>(
    scoringPipeline(engine, clock, {
      ...options,
      ...(rows === undefined ? {} : { earlyRows: rows }),
      onScored: (scored) => {
        early += scored.earlyPixels;
        total += scored.pixels;
      },
    }),
  );
  for (const block of templates.slice(0, 2)) await runner.run({ ...block, frameId: 0, capturedAt: nowMs() });
  const warmClock = clock.perBlock(1);
  const count = Math.max(1, Math.round((seconds * FX10.linesPerSecond) / FX10.blockLines));
  const rss = new RssSampler();
  const latencies: number[] = [];
  let dropped = 0;
  let pixels = 0;
  early = total = 0;
  const began = nowMs();
  await lastValueFrom(
    pacedLines(templates, count, rows).pipe(
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
    ...(rows === undefined ? {} : { earlyShare: total > 0 ? early / total : 0 }),
  });
}
