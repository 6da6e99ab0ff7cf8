import { finalize, type Observable, type OperatorFunction, pipe, tap } from 'rxjs';
import type { CubeFrame, InvalidFrameError } from '../src/core/frame.js';
import type { RowsReady } from '../src/core/rows-ready.js';
import type { ScoredFrame, ThresholdedFrame } from '../src/core/scored-frame.js';
import { createThresholdState, type ThresholdState } from '../src/core/threshold-state.js';
import type { ModelBundle } from '../src/model/bundle.js';
import { deepSvddFromBundle } from '../src/model/detector-bundle.js';
import { ModelParamsError } from '../src/model/model-errors.js';
import { currentEngine } from '../src/scoring/engine.js';
import type { ChunkRunner } from '../src/scoring/onnx/chunk-runner.js';
import { type BackpressurePolicy, backpressure, type DropReason } from './backpressure.js';
import { type CenterTracking, type ScorerOptions, scorerFromBundle } from './bundle-scorer.js';
import { type DecideAnomaliesOptions, type DecisionFrame, decideAnomalies } from './decide-anomalies.js';
import type { BlockScored } from './fused-deep-svdd-score.js';
import { fusedScorerFromBundle, fusedUnsupportedReason } from './fused-scorer-from-bundle.js';
import { persistentStage } from './internal/persistent-stage.js';
import { type StageTimer, timedStage } from './internal/timed-stage.js';
import { quantileThreshold } from './quantile-threshold.js';
import { rejectInvalidFrames } from './reject-invalid-frames.js';
import { rollingQuantileThreshold } from './rolling-quantile-threshold.js';

/** How τ is chosen (DESIGN §3.8). */
export interface ThresholdOptions {
  /** `rolling` (default): q-quantile of recent frames, seeded from calibration; `per-frame`: cuvis parity. */
  readonly mode?: 'rolling' | 'per-frame';
  /** Quantile level (default: the bundle's calibration quantile). */
  readonly q?: number;
  /** Rolling window in frames (default 50) and/or seconds. */
  readonly windowFrames?: number;
  readonly windowSeconds?: number;
  /** τ = quantile × margin (default: the bundle's calibration margin). */
  readonly margin?: number;
  /** `exact` or `ddsketch` (default exact). */
  readonly sketch?: 'exact' | 'ddsketch';
  /** Scores needed before the window replaces the seed. */
  readonly minSamples?: number;
}

/** Callbacks for metrics, logs and the dead-letter route. */
export interface PipelineHooks {
  /** A frame failed validation; it never reaches the model. */
  readonly onReject?: (frame: CubeFrame, error: InvalidFrameError) => void;
  /** A frame was dropped by the backpressure queue. */
  readonly onDrop?: (frame: CubeFrame, reason: DropReason) => void;
  /** Frames waiting for the scorer. */
  readonly onQueueDepth?: (depth: number) => void;
  /** τ applied to a camera's frame. */
  readonly onThreshold?: (cameraId: string, threshold: number) => void;
  /** The online centre moved. */
  readonly onCenterUpdate?: (center: Float32Array, drift: number, cameraId: string) => void;
  /** Per-stage duration in seconds. */
  readonly onStage?: StageTimer;
  /** After each block the onnx Deep SVDD scorer scored, with how many pixels it scored ahead from early rows. */
  readonly onScored?: (scored: BlockScored) => void;
}

/** Options of {@link deepSvddPipeline}; every field has a production default. */
export interface PipelineOptions {
  readonly threshold?: ThresholdOptions;
  /** Online centre tracking (default gated EMA, α 0.005). */
  readonly center?: Omit<CenterTracking, 'gate' | 'onUpdate'>;
  /** Frame verdict and blobs (default: anomalous when a blob of >= 4 pixels, 8-connectivity, per block). */
  readonly decide?: Omit<DecideAnomaliesOptions, 'modelVersion'>;
  /** Queue in front of the scorer; the camera never waits (default dropOldest, 4 frames). */
  readonly backpressure?: { readonly policy: BackpressurePolicy; readonly capacity: number };
  /** Largest frame accepted, in values (default 2^28). */
  readonly maxValues?: number;
  /**
   * Scoring engine: `onnx` (the fused onnxruntime graph), `tfjs` (the operator chain on the tfjs
   * backend), or `auto` (default): onnx when the bundle's stages fit the fused graph, unless tfjs
   * runs on native TensorFlow (a GPU host), else tfjs.
   */
  readonly scorer?: ScorerEngine;
  /** Worker threads of the `onnx` scorer (default: one per core, at most 2; 0: in this thread). */
  readonly scorerWorkers?: number;
  /** onnxruntime intra-op threads of the in-thread `onnx` scorer (`scorerWorkers: 0`; default 1). */
  readonly scorerThreads?: number;
  /**
   * The `onnx` scorer's runner, owned (and closed) by the caller: graphs it has loaded, e.g. by a
   * warm-up, serve this pipeline from its first block. Absent: each subscription makes its own.
   */
  readonly scorerRunner?: ChunkRunner;
  /**
   * Rows of blocks still being captured (`CameraSource.rows`): the onnx scorer scores them
   * ahead (`fusedDeepSvddScore`'s and `fusedRxScore`'s `earlyRows`); the tfjs scorer ignores them.
   */
  readonly earlyRows?: Observable<RowsReady>;
  readonly hooks?: PipelineHooks;
}

/** Which engine scores pixels. */
export type ScorerEngine = 'auto' | 'onnx' | 'tfjs';

/** The engine a pipeline with these options uses for this bundle, and why. */
export function chooseScorer(
  bundle: ModelBundle,
  requested: ScorerEngine = 'auto',
): { engine: 'onnx' | 'tfjs'; reason: string } {
  if (requested === 'tfjs') return { engine: 'tfjs', reason: 'requested' };
  const unsupported =
    bundle.manifest.detector === 'deep-svdd'
      ? fusedUnsupportedReason(deepSvddFromBundle(bundle))
      : bundle.manifest.detector === 'rx'
        ? undefined
        : `detector ${bundle.manifest.detector}`;
  if (unsupported !== undefined) {
    if (requested === 'onnx')
      throw new ModelParamsError('scorer', `onnx cannot run this bundle: ${unsupported}`);
    return { engine: 'tfjs', reason: unsupported };
  }
  if (requested === 'auto' && currentEngine()?.backend === 'tensorflow')
    return { engine: 'tfjs', reason: 'native TensorFlow backend' };
  return { engine: 'onnx', reason: requested === 'onnx' ? 'requested' : 'fused graph supports the bundle' };
}

/** Defaults of {@link PipelineOptions}, chosen from measurements on clean simulated belts (see README). */
export const PIPELINE_DEFAULTS = {
  windowFrames: 50,
  centerMode: 'gated-ema',
  centerAlpha: 0.005,
  minArea: 4,
  backpressure: { policy: 'dropOldest', capacity: 4 },
} as const;

/** The composed pipeline, with the τ it currently applies per camera. */
export type DeepSvddPipeline = OperatorFunction<CubeFrame, DecisionFrame> & {
  readonly thresholdState: ThresholdState;
};

/**
 * The whole detector of DESIGN §3 as one operator: validation (bad frames to `onReject`, the
 * stream goes on) -> bounded queue (drops counted) -> scorer from the bundle (Deep SVDD or RX,
 * online gated centre) -> threshold (rolling, seeded from the bundle's calibration, or per frame)
 * -> decisions with blobs. Frames flow once, left to right; state lives in the subscription.
 *
 * @example
 * ```ts
 * const bundle = await loadBundle('models/lentils');
 * camera.frames.pipe(deepSvddPipeline(bundle, { hooks: { onReject: deadLetter } }))
 *   .subscribe((f) => sink.publish(f.decision));
 * ```
 */
export function deepSvddPipeline(bundle: ModelBundle, options: PipelineOptions = {}): DeepSvddPipeline {
  const hooks = options.hooks ?? {};
  const calibration = bundle.calibration;
  const thresholdOptions = options.threshold ?? {};
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
          tap((f) => onThreshold(f.cameraId, f.threshold)),
        )
      : rollingQuantileThreshold({
          q,
          window: {
            frames: thresholdOptions.windowFrames ?? PIPELINE_DEFAULTS.windowFrames,
            ...(thresholdOptions.windowSeconds === undefined
              ? {}
              : { seconds: thresholdOptions.windowSeconds }),
          },
          seed: calibration.threshold,
          marginFactor: thresholdOptions.margin ?? calibration.margin,
          sketch: thresholdOptions.sketch ?? 'exact',
          ...(thresholdOptions.minSamples === undefined ? {} : { minSamples: thresholdOptions.minSamples }),
          state,
          onThreshold,
        });
  const centerOptions = options.center ?? {
    mode: PIPELINE_DEFAULTS.centerMode,
    alpha: PIPELINE_DEFAULTS.centerAlpha,
  };
  const scorerOptions: ScorerOptions = {
    center: {
      ...centerOptions,
      gate: (cameraId) => state.current(cameraId),
      ...(hooks.onCenterUpdate === undefined ? {} : { onUpdate: hooks.onCenterUpdate }),
    },
    ...(hooks.onStage === undefined ? {} : { onStage: hooks.onStage }),
  };
  const queue = options.backpressure ?? PIPELINE_DEFAULTS.backpressure;
  const decide = decideAnomalies({
    ...(options.decide ?? { minArea: PIPELINE_DEFAULTS.minArea }),
    modelVersion: bundle.manifest.version,
  });
  const pipeline: OperatorFunction<CubeFrame, DecisionFrame> = (frames) => {
    const fused =
      chooseScorer(bundle, options.scorer).engine === 'onnx'
        ? fusedScorerFromBundle(bundle, {
            ...scorerOptions,
            threads: options.scorerThreads ?? 1,
            ...(options.scorerWorkers === undefined ? {} : { workers: options.scorerWorkers }),
            ...(options.scorerRunner === undefined ? {} : { runner: options.scorerRunner }),
            ...(options.earlyRows === undefined ? {} : { earlyRows: options.earlyRows }),
            ...(hooks.onScored === undefined ? {} : { onScored: hooks.onScored }),
          })
        : undefined;
    const scorer = persistentStage(fused ?? scorerFromBundle(bundle, scorerOptions));
    return frames.pipe(
      rejectInvalidFrames({
        input: bundle.manifest.input,
        ...(options.maxValues === undefined ? {} : { maxValues: options.maxValues }),
        ...(hooks.onReject === undefined ? {} : { onReject: hooks.onReject }),
      }),
      backpressure((frame: CubeFrame) => scorer.run(frame), {
        policy: queue.policy,
        capacity: queue.capacity,
        ...(hooks.onDrop === undefined ? {} : { onDrop: hooks.onDrop }),
        ...(hooks.onQueueDepth === undefined ? {} : { onQueueDepth: hooks.onQueueDepth }),
      }),
      timedStage('threshold', threshold, hooks.onStage),
      timedStage('decide', decide, hooks.onStage),
      finalize(() => scorer.close()),
    );
  };
  return Object.assign(pipeline, { thresholdState: state });
}
