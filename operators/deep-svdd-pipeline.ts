import {
  catchError,
  EMPTY,
  finalize,
  identity,
  map,
  type Observable,
  type OperatorFunction,
  pipe,
  tap,
} from 'rxjs';
import type { DecidedFrame } from '../src/core/decision.js';
import type { CubeFrame, InvalidFrameError } from '../src/core/frame.js';
import { OptionError } from '../src/core/options.js';
import type { RowsReady } from '../src/core/rows-ready.js';
import type { ScoredFrame, ThresholdedFrame } from '../src/core/scored-frame.js';
import { createThresholdState, type ThresholdState } from '../src/core/threshold-state.js';
import type { ModelBundle } from '../src/model/bundle.js';
import type { CameraCheckpoints } from '../src/scoring/camera-checkpoints.js';
import { createScorer, type Scorer } from '../src/scoring/scorer.js';
import { backpressure, type DropReason } from './backpressure.js';
import { type ScorerOptions, scorerFromBundle } from './bundle-scorer.js';
import { decideAnomalies } from './decide-anomalies.js';
import type { FrameScored } from './fused-deep-svdd-score.js';
import { fusedScorerFromBundle } from './fused-scorer-from-bundle.js';
import { OPERATOR } from './internal/errors.js';
import { persistentStage } from './internal/persistent-stage.js';
import { type StageTimer, timedStage } from './internal/timed-stage.js';
import { type PipelineSettings, resolvePipelineSettings } from './pipeline-options.js';
import { quantileThreshold } from './quantile-threshold.js';
import { rejectInvalidFrames } from './reject-invalid-frames.js';
import { repairStuckElements } from './repair-stuck-elements.js';
import { rollingQuantileThreshold } from './rolling-quantile-threshold.js';

export { chooseScorer, type ScorerEngine } from '../src/scoring/scorer.js';
export { PIPELINE_DEFAULTS, PipelineSettingsSchema, type ThresholdOptions } from './pipeline-options.js';

/** Callbacks for metrics, logs and the dead-letter route. */
export interface PipelineHooks {
  /** A frame failed validation; it never reaches the model (its `release` is called right after). */
  readonly onReject?: (frame: CubeFrame, error: InvalidFrameError) => void;
  /** A frame was dropped by the backpressure queue (its `release` is called right after). */
  readonly onDrop?: (frame: CubeFrame, reason: DropReason) => void;
  /** Frames waiting for the scorer. */
  readonly onQueueDepth?: (depth: number) => void;
  /** τ applied to a camera's frame. */
  readonly onThreshold?: (cameraId: string, threshold: number) => void;
  /** A camera's count of stuck sensor elements changed (`defects.mode: repair`). */
  readonly onDefects?: (cameraId: string, count: number) => void;
  /** The online centre moved. */
  readonly onCenterUpdate?: (center: Float32Array, drift: number, cameraId: string) => void;
  /** Per-stage duration in seconds. */
  readonly onStage?: StageTimer;
  /** After each block the onnx Deep SVDD scorer scored, with how many pixels it scored ahead from early rows. */
  readonly onScored?: (scored: FrameScored) => void;
  /**
   * The scorer failed on a valid block (e.g. onnxruntime could not run): the block leaves without
   * a decision (its `release` is called right after) and the scorer starts afresh for the next
   * one, its online centres back at the bundle's. Absent, or after
   * {@link MAX_CONSECUTIVE_SCORER_ERRORS} blocks failed in a row, the error ends the stream.
   */
  readonly onScoreError?: (frame: CubeFrame, error: Error) => void;
}

/**
 * Blocks in a row the scorer may fail on, each reported to `onScoreError`, before the next
 * failure ends the stream (a scorer that never works is not retried for ever).
 */
export const MAX_CONSECUTIVE_SCORER_ERRORS = 3;

/**
 * Options of {@link deepSvddPipeline}: the settings of {@link PipelineSettingsSchema} (each
 * optional; defaults in {@link PIPELINE_DEFAULTS}: rolling τ over 50 frames summarised by
 * DDSketch, gated-EMA centre with α 0.005, a blob of 4 pixels in 8-connectivity per block,
 * dropOldest queue of 4 frames, 2^28 values per frame, `auto` scorer with 1 in-thread
 * intra-op thread) plus what only code can hand over: the scorer, the early rows and the hooks.
 */
export interface PipelineOptions extends PipelineSettings {
  /**
   * The scorer to score on, made by `createScorer` for this bundle and owned (warmed, closed)
   * by the caller: graphs it has loaded, e.g. by a warm-up, serve this pipeline from its first
   * block, and `scorer`, `scorerWorkers`, `scorerThreads` are its business. Absent: the
   * pipeline makes one from those settings and closes it when the stream ends.
   */
  readonly scoreWith?: Scorer;
  /**
   * Rows of blocks still being captured (`CameraSource.rows`): the onnx scorer scores them
   * ahead (`fusedDeepSvddScore`'s and `fusedRxScore`'s `earlyRows`); the tfjs scorer ignores them.
   */
  readonly earlyRows?: Observable<RowsReady>;
  readonly hooks?: PipelineHooks;
  /**
   * The cameras' state (online centre, rolling threshold) lent to these checkpoints while
   * subscribed, with this bundle's version, and each block reported once folded in: another
   * process can continue a camera exactly (docs/scaling-out.md §3).
   */
  readonly checkpoints?: CameraCheckpoints;
}

/** The scored block with the spectra it was scored from (the block's buffer, not a copy). */
function withSpectra(scored: ScoredFrame, block: CubeFrame): ScoredFrame {
  const { data, bands, wavelengths, wavelengthUnits } = block;
  return { ...scored, spectra: { data, bands, wavelengths, wavelengthUnits } };
}

/** The composed pipeline, with the τ it currently applies per camera. */
export type DeepSvddPipeline = OperatorFunction<CubeFrame, DecidedFrame> & {
  readonly thresholdState: ThresholdState;
};

/**
 * The whole detector of docs/maths.md §3 as one operator: validation (bad frames to `onReject`, the
 * stream goes on) -> bounded queue (drops counted) -> scorer from the bundle (Deep SVDD or RX,
 * online gated centre) -> threshold (rolling, seeded from the bundle's calibration, or per frame)
 * -> decisions with blobs. Frames flow once, left to right; state lives in the subscription.
 * Settings left out take their default from {@link PIPELINE_DEFAULTS}, the same a run
 * configuration with an empty `pipeline:` section gets.
 *
 * A frame's `release` (a pooled source's buffer, see `CubeFrame.release`) is called here for
 * frames rejected, dropped, or still queued when the stream ends; a decided frame carries it,
 * with its block's `spectra`, on to the subscriber, who calls it after the last read.
 *
 * @throws `OptionError` for a setting the schema refuses, naming it (e.g. `deepSvddPipeline.threshold.q`)
 * @example
 * ```ts
 * import { loadBundle } from 'cubestream';
 * import { deadLetterFromError, DeadLetterSink, JsonlDeadLetterFile } from 'cubestream/connectors';
 * const deadLetters = new DeadLetterSink([new JsonlDeadLetterFile({ path: 'dead.jsonl' })]);
 * const bundle = await loadBundle('models/lentils');
 * camera.frames
 *   .pipe(deepSvddPipeline(bundle, {
 *     hooks: { onReject: (f, e) => void deadLetters.publish(deadLetterFromError(e, { cameraId: f.cameraId })) },
 *   }))
 *   .subscribe((f) => sink.publish(f.decision));
 * ```
 */
export function deepSvddPipeline(bundle: ModelBundle, options: PipelineOptions = {}): DeepSvddPipeline {
  const { hooks = {}, scoreWith, earlyRows, checkpoints, ...given } = options;
  const settings = resolvePipelineSettings(given);
  const calibration = bundle.calibration;
  const thresholdOptions = settings.threshold;
  const q = thresholdOptions.q ?? calibration.quantile;
  const state = createThresholdState(calibration.threshold);
  const onThreshold = (cameraId: string, tau: number) => {
    state.set(cameraId, tau);
    hooks.onThreshold?.(cameraId, tau);
  };
  const threshold: OperatorFunction<ScoredFrame, ThresholdedFrame> =
    thresholdOptions.mode === 'per-frame'
      ? pipe(
          quantileThreshold({ q }),
          tap((f) => {
            onThreshold(f.cameraId, f.threshold);
            checkpoints?.blockDone(f.cameraId, f.frameId, f.rowOffset);
          }),
        )
      : rollingQuantileThreshold({
          q,
          window: { frames: thresholdOptions.windowFrames, seconds: thresholdOptions.windowSeconds },
          seed: calibration.threshold,
          marginFactor: thresholdOptions.margin ?? calibration.margin,
          ...scaleBasis(calibration, thresholdOptions.basis, thresholdOptions.scaleQuantile),
          sketch: thresholdOptions.sketch,
          minSamples: thresholdOptions.minSamples,
          state,
          onThreshold,
          ...(checkpoints === undefined ? {} : { checkpoints }),
        });
  const scorerOptions: ScorerOptions = {
    center: {
      ...settings.center,
      gate: (cameraId) => state.current(cameraId),
      onUpdate: hooks.onCenterUpdate,
      ...(checkpoints === undefined ? {} : { checkpoints }),
    },
    onStage: hooks.onStage,
  };
  const decide = decideAnomalies({ ...settings.decide, modelVersion: bundle.manifest.version });
  const pipeline: OperatorFunction<CubeFrame, DecidedFrame> = (frames) => {
    checkpoints?.useModel(bundle.manifest.version);
    const scorer =
      scoreWith ??
      createScorer(bundle, {
        engine: settings.scorer,
        workers: settings.scorerWorkers,
        threads: settings.scorerThreads,
      });
    const onScoreError = hooks.onScoreError;
    let failedInARow = 0;
    const stage = persistentStage(
      scorer.engine === 'onnx'
        ? (fusedScorerFromBundle(bundle, {
            ...scorerOptions,
            runner: scorer.runner,
            earlyRows,
            onScored: hooks.onScored,
          }) ?? scorerFromBundle(bundle, scorerOptions))
        : scorerFromBundle(bundle, scorerOptions),
      { recover: onScoreError !== undefined },
    );
    const score = (frame: CubeFrame): Observable<ScoredFrame> =>
      stage.run(frame).pipe(
        map((scored) => {
          failedInARow = 0;
          return withSpectra(scored, frame);
        }),
        catchError((error: unknown) => {
          failedInARow++;
          if (onScoreError === undefined || failedInARow > MAX_CONSECUTIVE_SCORER_ERRORS) throw error;
          onScoreError(frame, error instanceof Error ? error : new Error(String(error)));
          frame.release?.();
          return EMPTY;
        }),
      );
    // A frame that leaves without a decision is released here; a decided one carries its
    // `release` (and its spectra) on to the subscriber.
    return frames.pipe(
      rejectInvalidFrames({
        input: bundle.manifest.input,
        maxValues: settings.maxValues,
        onReject: (frame, error) => {
          hooks.onReject?.(frame, error);
          frame.release?.();
        },
      }),
      settings.defects.mode === 'repair'
        ? repairStuckElements({ releaseBlocks: settings.defects.releaseBlocks, onDefects: hooks.onDefects })
        : identity,
      backpressure(score, {
        ...settings.backpressure,
        onDrop: hooks.onDrop,
        release: (frame) => frame.release?.(),
        onQueueDepth: hooks.onQueueDepth,
      }),
      timedStage('threshold', threshold, hooks.onStage),
      timedStage('decide', decide, hooks.onStage),
      finalize(() => {
        stage.close();
        if (scorer !== scoreWith) void scorer.close();
      }),
    );
  };
  return Object.assign(pipeline, { thresholdState: state });
}

/**
 * The `scale` basis's option of `rollingQuantileThreshold`: the calibration's stored quantile of
 * the training scores as the reference. Asked for (`basis: scale`) or by default when the bundle
 * stores that quantile; empty (the tail basis) otherwise.
 *
 * @throws {@link OptionError} for `basis: scale` when the bundle's calibration does not store that quantile
 */
function scaleBasis(
  calibration: ModelBundle['calibration'],
  basis: 'scale' | 'tail' | undefined,
  q: number,
): { scale?: { readonly q: number; readonly reference: number } } {
  if (basis === 'tail') return {};
  const reference = calibration.scoreQuantiles[String(q)];
  if (reference !== undefined && reference > 0) return { scale: { q, reference } };
  if (basis === undefined) return {};
  throw new OptionError(
    OPERATOR,
    'deepSvddPipeline.threshold.scaleQuantile',
    q,
    `the bundle's calibration stores no positive quantile ${q} of its training scores (it has ${Object.keys(calibration.scoreQuantiles).join(', ') || 'none'}); use basis: tail or one of those`,
  );
}
