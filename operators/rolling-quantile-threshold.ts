import { Observable, type OperatorFunction } from 'rxjs';
import { OptionError } from '../src/core/options.js';
import type { ScoredFrame, ThresholdedFrame } from '../src/core/scored-frame.js';
import {
  createThresholdState,
  type MutableThresholdState,
  type ThresholdState,
} from '../src/core/threshold-state.js';
import {
  firstNaN,
  NonFiniteScoreError,
  OPERATOR,
  requireInRange,
  requireInteger,
  requireOneOf,
  requirePositive,
} from './internal/errors.js';

export { NonFiniteScoreError } from './internal/errors.js';

import type { CameraCheckpoints } from '../src/scoring/camera-checkpoints.js';
import { ScoreWindow, type WindowLimits, type WindowSummary } from '../src/scoring/score-window.js';

/** Options of {@link rollingQuantileThreshold}. */
export interface RollingQuantileThresholdOptions {
  /** Quantile level q in [0, 1). */
  readonly q: number;
  /** Window: the last `frames` frames and/or the last `seconds` seconds (at least one). */
  readonly window: WindowLimits;
  /** τ applied until the window holds `minSamples` scores: the threshold calibrated in the model bundle. */
  readonly seed: number;
  /** Kept scores needed before the window's quantile replaces the seed (default ⌈10/(1-q)⌉). */
  readonly minSamples?: number;
  /** `anomalous` (default): scores >= the τ applied to them are censored; `none`: every score counts. */
  readonly exclude?: 'anomalous' | 'none';
  /** τ = window quantile × `marginFactor` (default 1). */
  readonly marginFactor?: number;
  /**
   * Scale basis (docs/maths.md §3.8): τ = `seed` × Q̃_scale.q(window) / `scale.reference`, the
   * calibrated τ moved by how far a central quantile of the scores moved since calibration
   * (`reference` = that quantile of the training scores). Ignores `q` and `marginFactor`
   * (except for `minSamples`' default). Absent: the tail basis, τ = Q̃_q × margin.
   */
  readonly scale?: { readonly q: number; readonly reference: number };
  /** `exact` (default): keep every score; `ddsketch`: one DDSketch per frame, merged over the window. */
  readonly sketch?: WindowSummary;
  /** Relative accuracy α of the DDSketch (default 0.01). */
  readonly relativeAccuracy?: number;
  /** Called whenever a camera's τ is set (once per frame), e.g. for `cubestream_threshold{camera}`. */
  readonly onThreshold?: (cameraId: string, threshold: number) => void;
  /** Where τ per camera is published (default: a new state, also exposed as `.state`). */
  readonly state?: MutableThresholdState;
  /** Clock for `window.seconds`, epoch ms (default `Date.now`). */
  readonly now?: () => number;
  /**
   * Lends each camera's window, frame and τ to these checkpoints while subscribed, and reports
   * every block once its scores are in the window ({@link CameraCheckpoints.blockDone}).
   */
  readonly checkpoints?: CameraCheckpoints;
}

/** A thresholded frame that says where its τ came from. */
export interface RollingThresholdedFrame extends ThresholdedFrame {
  /** `seed` until the window holds `minSamples` kept scores, then `window`. */
  readonly thresholdSource: 'seed' | 'window';
  /** True while the window does not yet reach as far back as configured. */
  readonly warmup: boolean;
}

/** The operator, with the τ it currently applies per camera. */
export type RollingQuantileThreshold = OperatorFunction<ScoredFrame, RollingThresholdedFrame> & {
  readonly state: ThresholdState;
};

/**
 * Rolling threshold (docs/maths.md §3.8): τ for a frame of a camera is the q-quantile (linear
 * interpolation) of the scores of that camera's previous frames in the window, times
 * `marginFactor`; the seed until `minSamples` scores are kept. Every block of a frame gets the
 * same τ, fixed when its first block arrives; any other `frameId` opens a new window entry (so
 * a camera that restarts its frame ids carries on). With `exclude: 'anomalous'`, pixels with score >= their τ are censored: counted
 * as lying above every kept score, their values dropped. Anomalies then never lift τ past the
 * largest kept score, and with `marginFactor` > 1 τ holds steady on clean data (measured: within
 * 2% of m·x_q over 2,000 frames at m = 1.1). Kept scores are all below the τ applied to them,
 * so at m = 1 τ can never rise and sampling noise walks it down slowly (to 0.79·x_q after
 * 2,000 frames of 2,000 px, W = 20; cutting the judged pixels out instead: 0.09·x_q): use a
 * margin > 1 with `exclude: 'anomalous'`, or `exclude: 'none'`. During a burst of foreign
 * bodies (over 2(1 - q) of the window judged anomalous, the quantile among the censored scores)
 * τ holds where it is instead of climbing to the largest kept score × margin each frame.
 *
 * `sketch: 'ddsketch'`: the returned quantile q̂ satisfies |q̂ - x_q| <= α·x_q, x_q the exact
 * window quantile, for non-negative scores (up to floating-point rounding): both order
 * statistics around the rank come back within α, and so does their interpolation. Zeros are
 * counted exactly and returned as 0. `exact` costs O(window scores) per frame.
 * State per camera lives in the subscription and is dropped on finalize; `state` keeps the last τ.
 *
 * @throws `OptionError` at build time for a bad option (names it)
 * @throws {@link NonFiniteScoreError} (the stream errors) for a frame holding a NaN score
 * @example
 * ```ts
 * import { decideAnomalies } from 'cubestream/operators';
 * const threshold = rollingQuantileThreshold({ q: 0.999, window: { frames: 100 }, seed: bundle.calibration.threshold,
 *   marginFactor: 1.2, sketch: 'ddsketch', onThreshold: (camera, tau) => metrics.threshold.set({ camera }, tau) });
 * scored$.pipe(threshold, decideAnomalies({ modelVersion: bundle.manifest.version }));
 * ```
 */
export function rollingQuantileThreshold(options: RollingQuantileThresholdOptions): RollingQuantileThreshold {
  const name = 'rollingQuantileThreshold';
  const q = requireInRange(`${name}.q`, options.q, 0, 1 - Number.EPSILON);
  const seed = requireInRange(`${name}.seed`, options.seed, 0, Number.POSITIVE_INFINITY);
  const { frames, seconds } = options.window ?? {};
  if (frames === undefined && seconds === undefined) {
    throw new OptionError(OPERATOR, `${name}.window`, options.window, 'needs frames and/or seconds');
  }
  if (frames !== undefined) requireInteger(`${name}.window.frames`, frames, 1);
  if (seconds !== undefined) requirePositive(`${name}.window.seconds`, seconds);
  const minSamples = requireInteger(`${name}.minSamples`, options.minSamples ?? Math.ceil(10 / (1 - q)), 1);
  const exclude = requireOneOf(`${name}.exclude`, options.exclude ?? 'anomalous', [
    'anomalous',
    'none',
  ] as const);
  const margin = requirePositive(`${name}.marginFactor`, options.marginFactor ?? 1);
  const summary = requireOneOf(`${name}.sketch`, options.sketch ?? 'exact', ['exact', 'ddsketch'] as const);
  const alpha = requireInRange(`${name}.relativeAccuracy`, options.relativeAccuracy ?? 0.01, 1e-6, 0.5);
  const state = options.state ?? createThresholdState(seed);
  const now = options.now ?? Date.now;
  const limits: WindowLimits = { frames, seconds };
  const scale = options.scale;
  if (scale !== undefined) {
    requireInRange(`${name}.scale.q`, scale.q, Number.EPSILON, 1 - Number.EPSILON);
    requireInRange(`${name}.scale.reference`, scale.reference, Number.MIN_VALUE, Number.POSITIVE_INFINITY);
  }

  interface Camera {
    readonly window: ScoreWindow;
    frameId: number;
    threshold: number;
    source: 'seed' | 'window';
  }

  const operator: OperatorFunction<ScoredFrame, RollingThresholdedFrame> = (source) =>
    new Observable<RollingThresholdedFrame>((subscriber) => {
      const cameras = new Map<string, Camera>();
      const giveBack = options.checkpoints?.lendThreshold({
        save: (cameraId) => {
          const camera = cameras.get(cameraId);
          if (camera === undefined) return undefined;
          return {
            frameId: camera.frameId,
            threshold: camera.threshold,
            source: camera.source,
            window: camera.window.toState(),
          };
        },
        load: (cameraId, saved) => {
          cameras.get(cameraId)?.window.clear();
          cameras.delete(cameraId);
          if (saved === undefined) return;
          const window = ScoreWindow.fromState(saved.window, limits, summary, alpha);
          cameras.set(cameraId, {
            window,
            frameId: saved.frameId,
            threshold: saved.threshold,
            source: saved.source,
          });
          state.set(cameraId, saved.threshold);
        },
      });
      const subscription = source.subscribe({
        next: (frame) => {
          const bad = firstNaN(frame.scores);
          if (bad >= 0) {
            subscriber.error(new NonFiniteScoreError(frame.cameraId, frame.frameId, bad));
            return;
          }
          const t = now();
          let camera = cameras.get(frame.cameraId);
          if (camera === undefined || frame.frameId !== camera.frameId) {
            camera ??= {
              window: new ScoreWindow(limits, summary, alpha),
              frameId: -1,
              threshold: seed,
              source: 'seed',
            };
            cameras.set(frame.cameraId, camera);
            camera.window.openFrame(frame.frameId, t);
            const quantile =
              camera.window.kept >= minSamples ? camera.window.quantile(scale?.q ?? q) : undefined;
            if (quantile === undefined) {
              camera.threshold = seed;
              camera.source = 'seed';
            } else if (scale !== undefined) {
              // A central quantile hardly moves while foreign bodies come and go (a 5 % dirty belt
              // moves the median by ~5 % of its rank), so τ follows the normal scores only.
              if (quantile > 0) {
                camera.threshold = (seed * quantile) / scale.reference;
                camera.source = 'window';
              }
            } else if (!camera.window.censoredBurst(q)) {
              camera.threshold = quantile * margin;
              camera.source = 'window';
            }
            // Otherwise a burst: over 2(1 - q) of the window was judged anomalous and the quantile lies
            // among those censored scores, so τ holds (raising it to max kept × margin would ratchet
            // it up frame after frame while foreign bodies keep coming).
            camera.frameId = frame.frameId;
            state.set(frame.cameraId, camera.threshold);
            options.onThreshold?.(frame.cameraId, camera.threshold);
          }
          const { window, threshold } = camera;
          // τ of this block came from earlier frames: hand the block on first (the decision goes
          // out), then add its scores to the window, off the latency path.
          subscriber.next({ ...frame, threshold, thresholdSource: camera.source, warmup: !window.isFull(t) });
          if (subscriber.closed) return; // unsubscribed downstream: the window is cleared
          window.add(frame.scores, exclude === 'anomalous' ? threshold : Number.POSITIVE_INFINITY);
          options.checkpoints?.blockDone(frame.cameraId, frame.frameId, frame.rowOffset);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        subscription.unsubscribe();
        giveBack?.();
        for (const camera of cameras.values()) camera.window.clear();
        cameras.clear();
      };
    });
  return Object.assign(operator, { state: state as ThresholdState });
}
