/**
 * The cubestream side of the `genicam` bench: a GenICam camera (`genicamSource`) into the
 * service's Deep SVDD pipeline, built as `startService` builds it (the run configuration's
 * `pipeline` section, its scorer created and warmed before the camera opens, the source's rows
 * scored ahead), measured over a fixed window once the stream has settled.
 */
import { resolve } from 'node:path';
import { genicamSource } from '../connectors/sources/genicam/genicam-source.js';
import type { OpenedCamera } from '../connectors/sources/genicam/opened-camera.js';
import { deepSvddPipeline, type PipelineHooks } from '../operators/deep-svdd-pipeline.js';
import { pipelineOptions } from '../src/app/service/pipeline-options.js';
import type { RunConfig } from '../src/app/service/run-config.js';
import { warmScorer } from '../src/app/service/scorer-warmup.js';
import { CubestreamError } from '../src/core/errors.js';
import { loadBundle } from '../src/model/bundle.js';
import { createScorer } from '../src/scoring/scorer.js';
import { nowMs, RssSampler } from './block-runner.js';
import type { BenchEngine } from './pipelines.js';

/**
 * From the camera's first open to the start of the measured window (ms): the line path's code
 * is still unoptimised for the first few hundred lines, which can hold the event loop up for
 * up to about a second on a busy 2-core machine. Lines lost then still count in `incomplete`.
 */
export const GENICAM_WARMUP_MS = 2_000;
/** Lines captured after the window, so that the window's last blocks are decided before the camera closes (s). */
const TAIL_SECONDS = 0.5;

/** What {@link measureGenicamPipeline} measured. */
export interface GenicamPipelineMeasurements {
  /** The scorer's engine (the run configuration's `pipeline.scorer`, `auto` resolved). */
  readonly engine: BenchEngine;
  /** Length of the measured window (s). */
  readonly seconds: number;
  /** Lines the source received in the window (`stats().lines`). */
  readonly linesReceived: number;
  /** Lines of the blocks decided in the window. */
  readonly linesDecided: number;
  /** Pixels of the blocks decided in the window. */
  readonly pixelsDecided: number;
  /** Decision time minus `capturedAt` of each block decided in the window (ms). */
  readonly latencies: readonly number[];
  /** Total ms per pipeline stage in the window (`hooks.onStage`). */
  readonly stageTotals: Readonly<Record<string, number>>;
  /** Blocks the pipeline's queue dropped / its validation refused, whole run. */
  readonly dropped: number;
  readonly rejected: number;
  /** Lines the source lost, whole run: incomplete buffers and ring overflows, and ids never received. */
  readonly incompleteLines: number;
  readonly gapLines: number;
  /** Share of pixels scored from early rows, in the window. */
  readonly earlyShare: number;
  readonly peakRssMb: number;
  /** CPU time of this process (all its threads) per second of the window, in cores. */
  readonly cpuCores: number;
  /** The features the camera read back when the source opened it (GenICam names). */
  readonly features: OpenedCamera['features'];
}

/** The genicam bench's pipeline failed, or its camera sent nothing in time (code `genicam-bench`). */
export class GenicamBenchError extends CubestreamError {
  /** @param message - what failed, with the values involved */
  constructor(message: string, options?: { cause?: unknown }) {
    super('genicam-bench', message, options);
  }
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** A line count at a moment. */
interface Mark {
  readonly at: number;
  /** `process.cpuUsage()` user + system, µs. */
  readonly cpuMicros: number;
  readonly lines: number;
  readonly linesDecided: number;
  readonly pixelsDecided: number;
}

/**
 * Streams `config.source` (kind `genicam`) through `deepSvddPipeline` with `config.model` for
 * {@link GENICAM_WARMUP_MS} + `seconds` + a short tail (then `maxBlocks` closes the camera), and
 * measures lines received and decided per second in the `seconds` window, latency from each
 * block's `capturedAt` to its decision, and the lines the source lost.
 *
 * @param linesPerSecond - the camera's expected line rate, to size `maxBlocks`
 * @throws {@link GenicamBenchError} for a source of another kind, or a camera that delivers far
 *   fewer blocks than expected; the source's or the pipeline's error when the stream fails
 * @example
 * ```ts
 * import { loadRunConfig } from '../src/app/service/run-config.js';
 * const config = await loadRunConfig('configs/run/genicam-fake.yaml', ['source.features.frameRate=330']);
 * const m = await measureGenicamPipeline(config, 10, 330);
 * console.log(m.linesReceived / m.seconds, 'lines/s');
 * ```
 */
export async function measureGenicamPipeline(
  config: RunConfig,
  seconds: number,
  linesPerSecond: number,
): Promise<GenicamPipelineMeasurements> {
  const source = config.source;
  if (source.kind !== 'genicam')
    throw new GenicamBenchError(`the genicam bench needs a source of kind genicam, not ${source.kind}`);
  const bundle = await loadBundle(resolve(config.model.path));
  const scorer = createScorer(bundle, {
    engine: config.pipeline.scorer,
    workers: config.pipeline.scorerWorkers,
    threads: config.pipeline.scorerThreads,
  });
  try {
    await warmScorer(bundle, config.pipeline, scorer);

    const { kind: _kind, ...settings } = source;
    const maxBlocks = Math.ceil(
      ((GENICAM_WARMUP_MS / 1000 + seconds + TAIL_SECONDS) * linesPerSecond) / settings.blockRows,
    );
    const stageTotals: Record<string, number> = {};
    const latencies: number[] = [];
    let start: Mark | undefined;
    let end: Mark | undefined;
    let linesDecided = 0;
    let pixelsDecided = 0;
    let dropped = 0;
    let rejected = 0;
    let early = 0;
    let scored = 0;
    const timers: NodeJS.Timeout[] = [];
    let opened = false;
    let features: OpenedCamera['features'] = {};

    const camera = genicamSource({
      ...settings,
      maxBlocks,
      onOpened: (camera, reconnected) => {
        if (reconnected || opened) return;
        opened = true;
        features = camera.features;
        timers.push(
          setTimeout(() => {
            start = mark();
            timers.push(setTimeout(() => (end ??= mark()), seconds * 1000));
          }, GENICAM_WARMUP_MS),
        );
      },
    });
    const mark = (): Mark => ({
      at: nowMs(),
      cpuMicros: cpuMicros(),
      lines: camera.stats()?.lines ?? 0,
      linesDecided,
      pixelsDecided,
    });
    const measuring = (): boolean => start !== undefined && end === undefined;
    const hooks: PipelineHooks = {
      onDrop: () => dropped++,
      onReject: () => rejected++,
      onStage: (stage, s) => {
        if (measuring()) stageTotals[stage] = (stageTotals[stage] ?? 0) + s * 1000;
      },
      onScored: (s) => {
        if (!measuring()) return;
        early += s.earlyPixels;
        scored += s.pixels;
      },
    };
    const pipeline = deepSvddPipeline(bundle, pipelineOptions(config.pipeline, hooks, camera.rows, scorer));
    const rss = new RssSampler();
    // A camera at a tenth of the expected rate still ends; past that, the bench gives up.
    const deadlineMs = 10 * (GENICAM_WARMUP_MS + (seconds + TAIL_SECONDS) * 1000) + 10_000;
    try {
      await new Promise<void>((done, fail) => {
        const subscription = camera.frames.pipe(pipeline).subscribe({
          next: (decided) => {
            const at = nowMs();
            linesDecided += decided.height;
            pixelsDecided += decided.height * decided.width;
            if (measuring()) latencies.push(at - decided.capturedAt);
            decided.release?.();
          },
          error: (error: unknown) => fail(error),
          complete: () => done(),
        });
        timers.push(
          setTimeout(() => {
            subscription.unsubscribe();
            fail(
              new GenicamBenchError(
                `camera ${settings.camera} delivered ${camera.stats()?.lines ?? 0} lines in ${deadlineMs} ms, ` +
                  `not the ${maxBlocks * settings.blockRows} expected at ${linesPerSecond} lines/s`,
              ),
            );
          }, deadlineMs),
        );
      });
    } finally {
      for (const timer of timers) clearTimeout(timer);
    }
    const peakRssMb = rss.stop();
    end ??= mark();
    if (start === undefined)
      throw new GenicamBenchError(
        `camera ${settings.camera} ended before the measured window began (${maxBlocks} blocks)`,
      );
    const stats = camera.stats();
    return {
      engine: scorer.engine,
      seconds: (end.at - start.at) / 1000,
      linesReceived: end.lines - start.lines,
      linesDecided: end.linesDecided - start.linesDecided,
      pixelsDecided: end.pixelsDecided - start.pixelsDecided,
      latencies,
      stageTotals,
      dropped,
      rejected,
      incompleteLines: (stats?.incomplete ?? 0) + (stats?.gapLines ?? 0),
      gapLines: stats?.gapLines ?? 0,
      earlyShare: scored > 0 ? early / scored : 0,
      peakRssMb,
      cpuCores: (end.cpuMicros - start.cpuMicros) / 1000 / (end.at - start.at),
      features,
    };
  } finally {
    await scorer.close();
  }
}
