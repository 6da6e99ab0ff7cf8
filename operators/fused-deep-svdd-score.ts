import { defer, type Observable, type OperatorFunction } from 'rxjs';
import type { RowsReady } from '../src/core/rows-ready.js';
import type { FrameIdentity, ScoredFrame } from '../src/core/scored-frame.js';
import { type DeepSvddParams, validateDeepSvddParams } from '../src/model/deep-svdd-params.js';
import type { CameraCheckpoints } from '../src/scoring/camera-checkpoints.js';
import { type CenterMode, CenterTracker } from '../src/scoring/center-tracker.js';
import { bandPlanner } from '../src/scoring/onnx/band-plan.js';
import type { ChunkPrep } from '../src/scoring/onnx/chunk-runner.js';
import { scorerChunkPixels } from '../src/scoring/onnx/chunk-size.js';
import {
  type ChunkRunnerOptions,
  checkChunkRunnerOptions,
  holdChunkRunner,
} from '../src/scoring/onnx/create-chunk-runner.js';
import { buildDeepSvddGraph, type SelectionStyle } from '../src/scoring/onnx/deep-svdd-graph.js';
import { runDeepSvdd, sumChunks } from '../src/scoring/onnx/deep-svdd-run.js';
import type {
  FrameScored,
  ScoredPart,
  ScoringInput,
  ScoringSnapshot,
} from '../src/scoring/onnx/early-row-scorer.js';
import { type FusedInputFrame, frameElementType } from '../src/scoring/onnx/uint16-frame.js';
import { earlyRowStage } from './internal/early-row-stage.js';

export type { FrameScored } from '../src/scoring/onnx/early-row-scorer.js';

/** Options of {@link fusedDeepSvddScore}. */
export interface FusedDeepSvddScoreOptions extends ChunkRunnerOptions {
  /** How the centre moves (default `frozen`), as `trackCenter`'s `mode`. */
  readonly centerMode?: CenterMode;
  /** EMA weight α in [0, 1] (default `DEFAULT_CENTER_ALPHA`, 0.005). */
  readonly alpha?: number;
  /** Current τ (`gated-ema`, required there); gets the camera id, so `() => tau` and `(camera) => state.current(camera)` both fit. */
  readonly gate?: (cameraId: string) => number;
  /** Called after each centre update with the new centre, its drift and the camera id. */
  readonly onUpdate?: (center: Float32Array, drift: number, cameraId: string) => void;
  /** Lends the centres to these checkpoints while subscribed (see `CenterTrackerOptions.checkpoints`). */
  readonly checkpoints?: CameraCheckpoints;
  /** Model version copied into every `ScoredFrame`. */
  readonly modelVersion?: string;
  /**
   * Largest chunk of pixels per onnxruntime run (default `defaultChunkPixels`: 8,192 for 61
   * uint16 bands, 4,096 for 224; with `earlyRows`, `earlyChunkPixels`: about an eighth of a block).
   */
  readonly chunkPixels?: number;
  /** How the band-pass and unit norm become nodes (default `ops`); see {@link SelectionStyle}. */
  readonly selection?: SelectionStyle;
  /**
   * Where band selection and unit norm run (default `wasm`): `wasm` in one fused SIMD pass per
   * chunk before onnxruntime (`BandPrepKernel`; kept bands must be contiguous, else `graph`),
   * `graph` as onnxruntime nodes (Slice, Cast, ReduceMean, Sub, ReduceSumSquare, Sqrt, Max, Div).
   */
  readonly bandPrep?: 'wasm' | 'graph';
  /** Stage name under which the score time is stamped into `timings` (default `fusedDeepSvddScore`). */
  readonly stampAs?: string;
  /**
   * Rows of blocks still being captured, from a line-scan source that fills each block's buffer
   * line by line ({@link RowsReady}). While no frame is being scored, rows that are in are
   * scored ahead (whole chunks, on the same workers), so a block's frame waits only for its
   * last rows. Blocks are then cut into chunks on a fixed grid (not the pool's guided plan) and
   * rows scored under another centre or τ than their frame's are dropped, so scores and centre
   * updates are bit for bit the same whichever rows came early (and the same as with no rows
   * published).
   */
  readonly earlyRows?: Observable<RowsReady>;
  /** Called after each block with how many of its pixels were scored ahead from `earlyRows`. */
  readonly onScored?: (scored: FrameScored) => void;
}

const STAGE = 'fusedDeepSvddScore';

/** The kernel's work for contiguous kept bands (a band-pass always keeps a contiguous run), else undefined. */
function chunkPrepOf(kept: Int32Array, unitNorm: boolean): ChunkPrep | undefined {
  const lo = kept[0];
  if (lo === undefined || kept[kept.length - 1] !== lo + kept.length - 1) return undefined;
  return { lo, count: kept.length, unitNorm, eps: 1e-8 };
}

/** The frame's identity: everything but its spectra. */
function identityOf(frame: FusedInputFrame): FrameIdentity {
  const {
    data: _data,
    bands: _bands,
    wavelengths: _wavelengths,
    wavelengthUnits: _units,
    ...identity
  } = frame;
  return identity;
}

/**
 * The whole Deep SVDD scoring chain in one onnxruntime-node session per input wavelength
 * vector: `CubeFrame` (float32) or `Uint16CubeFrame` (raw counts, cast inside the graph) ->
 * {@link ScoredFrame}, with the semantics of `toTensorFrame -> bandpassByWavelength ->
 * perPixelUnitNorm (when params.unitNorm) -> zscoreNormalize -> projectEmbeddings -> trackCenter
 * -> scoreDistance`. The z-score is folded into the first layer and the centre into the second
 * layer's bias at build time (float64); the centre stays a graph input, so `ema` / `gated-ema`
 * tracking moves it per camera without a rebuild, from sums the same run returns.
 *
 * A graph is built on first use of each (element type, wavelength vector) and released on
 * finalize, after any run in flight. A block is cut into cache-sized chunks scored on all
 * worker threads at once (`workers`, default one per core up to 2; a pool of the subscription's
 * own, or the caller's `runner`), or in this thread on one session with `workers: 0`; the chunks' sums are added in pixel
 * order, so both give the same scores and centre updates. Frames come out in order (concatMap).
 *
 * @throws {@link ModelParamsError} at build time for inconsistent params or centre options
 * @throws {@link InvalidFrameError} (`shape`), {@link WavelengthSelectionError} (`wavelengths`) or
 *   {@link ChannelCountError} (`bands`, stage `zscoreNormalize`) for a bad frame, as the tfjs chain
 * @throws {@link OnnxRuntimeError} when onnxruntime fails to create a session or to run it
 * @example
 * ```ts
 * import { decideAnomalies, rollingQuantileThreshold } from 'cubestream/operators';
 * const threshold = rollingQuantileThreshold({ q: 0.999, window: { frames: 100 }, seed: bundle.calibration.threshold });
 * frames$.pipe(
 *   fusedDeepSvddScore(params, { centerMode: 'gated-ema', alpha: 0.005, gate: (cam) => threshold.state.current(cam) }),
 *   threshold,
 *   decideAnomalies({ minArea: 4 }),
 * )
 * ```
 */
export function fusedDeepSvddScore(
  params: DeepSvddParams,
  options: FusedDeepSvddScoreOptions = {},
): OperatorFunction<FusedInputFrame, ScoredFrame> {
  validateDeepSvddParams(params);
  const trackerOptions = {
    center: params.center,
    ...(options.centerMode === undefined ? {} : { mode: options.centerMode }),
    ...(options.alpha === undefined ? {} : { alpha: options.alpha }),
    ...(options.gate === undefined ? {} : { gate: options.gate }),
    ...(options.onUpdate === undefined ? {} : { onUpdate: options.onUpdate }),
    ...(options.checkpoints === undefined ? {} : { checkpoints: options.checkpoints }),
  };
  // Built here so that bad centre options fail at build time; each subscription gets a fresh copy.
  const template = new CenterTracker(trackerOptions);
  const version = options.modelVersion === undefined ? {} : { modelVersion: options.modelVersion };
  const stamp = options.stampAs ?? STAGE;
  const selection = options.selection ?? 'ops';
  const bandPrep = options.bandPrep ?? 'wasm';
  checkChunkRunnerOptions(options); // fails now for a bad worker count

  return (source) =>
    defer(() => {
      const centers = template.fresh();
      const plan = bandPlanner({
        bandpass: params.bandpass,
        expected: params.zscore.mean.length,
        countStage: 'zscoreNormalize',
      });
      const { runner, release } = holdChunkRunner(options);
      const chunkOf = (block: ScoringInput): number =>
        scorerChunkPixels(block, {
          chunkPixels: options.chunkPixels,
          early: options.earlyRows !== undefined,
        });

      /** Scores pixels `from .. to-1` of a block (validated here: a bad frame throws its error). */
      const scorePart = async (
        block: ScoringInput,
        from: number,
        to: number,
        snapshot: ScoringSnapshot,
      ): Promise<ScoredPart> => {
        const inputType = frameElementType(block);
        const bands = plan(block.wavelengths, block.wavelengthUnits);
        const prep = bandPrep === 'wasm' ? chunkPrepOf(bands.kept, params.unitNorm === true) : undefined;
        return runDeepSvdd(
          runner,
          `${inputType}|${bands.key}${prep === undefined ? '' : '|prep'}`,
          () =>
            prep === undefined
              ? buildDeepSvddGraph(params, {
                  inChannels: bands.inChannels,
                  kept: bands.kept,
                  inputType,
                  selection,
                })
              : buildDeepSvddGraph(params, {
                  inChannels: prep.count,
                  kept: Int32Array.from({ length: prep.count }, (_, i) => i),
                  inputType: 'float32',
                  prepared: true,
                }),
          {
            data: block.data.subarray(from * block.bands, to * block.bands),
            inputType,
            pixels: to - from,
            bands: block.bands,
            center: snapshot.center,
            tau: snapshot.tau,
          },
          // With early rows, every run is cut on the block's grid: results do not depend on timing.
          {
            chunkPixels: chunkOf(block),
            grid: options.earlyRows !== undefined,
            ...(prep === undefined ? {} : { prep }),
          },
        );
      };
      const snapshotOf = (cameraId: string): ScoringSnapshot => ({
        center: centers.current(cameraId),
        tau: centers.tau(cameraId),
      });
      return source.pipe(
        earlyRowStage({
          earlyRows: options.earlyRows,
          scorePart,
          snapshot: snapshotOf,
          chunkPixels: chunkOf,
          finish: (frame, { scores, chunks, snapshot, earlyPixels }) => {
            const { zsumNormal, nNormal } = sumChunks(chunks, snapshot.center.length);
            centers.update(frame.cameraId, zsumNormal, nNormal);
            options.onScored?.({ cameraId: frame.cameraId, pixels: scores.length, earlyPixels });
            const identity = identityOf(frame);
            return { ...identity, timings: { ...identity.timings, [stamp]: Date.now() }, scores, ...version };
          },
          release: () => {
            centers.clear();
            release();
          },
        }),
      );
    });
}
