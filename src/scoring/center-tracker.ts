import { float32Base64, float32FromBase64 } from '../core/float32-base64.js';
import { ModelParamsError } from '../model/model-errors.js';
import type { CameraCheckpoints } from './camera-checkpoints.js';

/**
 * How the centre moves: `frozen` never (cuvis at inference), `ema` towards the mean embedding of
 * every frame, `gated-ema` towards the mean of the pixels judged normal (squared distance below
 * the current threshold τ).
 */
export type CenterMode = 'frozen' | 'ema' | 'gated-ema';

/** Options of {@link CenterTracker} (and of the tfjs operator `trackCenter`, which runs one). */
export interface CenterTrackerOptions {
  /** Initial centre c (length D), e.g. `meanEmbedding(…)`; the same start for every camera. */
  readonly center: Float32Array;
  /** Default `frozen`. */
  readonly mode?: CenterMode;
  /**
   * EMA weight α in [0, 1] (default {@link DEFAULT_CENTER_ALPHA}; cuvis trains with 0.1):
   * c <- (1-α)c + α·mean(z).
   */
  readonly alpha?: number;
  /**
   * Current threshold τ of a camera (`gated-ema`, required there): only pixels with
   * ||z - c||² < τ are averaged; no update when none passes; every pixel when it returns Infinity.
   */
  readonly gate?: (cameraId: string) => number;
  /**
   * Called after each update with the camera's new centre, its drift (L2 distance from the
   * initial centre) and the camera id, e.g. to set `cubestream_center_drift{camera}`.
   */
  readonly onUpdate?: (center: Float32Array, drift: number, cameraId: string) => void;
  /**
   * Each tracker made by {@link CenterTracker.fresh} (one per subscription) lends its centres to
   * these checkpoints until {@link CenterTracker.clear}, so another process can continue them.
   */
  readonly checkpoints?: CameraCheckpoints;
}

/**
 * Default EMA weight at inference (docs/maths.md §3.5 suggests 0.001-0.01): 0.005, the pipeline's and
 * the service's default too (`CenterOptionsSchema` in operators/pipeline-options.ts).
 */
export const DEFAULT_CENTER_ALPHA = 0.005;

/**
 * Per-camera Deep SVDD centres (docs/maths.md §3.5), the one home of the centre's update rule, gating
 * and defaults: the fused scorers and the tfjs operator `trackCenter` both run one. A frame is
 * scored against the camera's current centre ({@link CenterTracker.current}); the caller then
 * sums the embeddings of the pixels the gate lets through ({@link CenterTracker.tau}) and hands
 * the sum and count to {@link CenterTracker.update}: c <- (1-α)c + α·sum/count in float64, no
 * gradient through c, no update when none passed.
 *
 * @throws {@link ModelParamsError} at construction for a bad mode, α outside [0, 1], a
 *   non-finite or empty centre, or `gated-ema` without `gate`
 * @example
 * ```ts
 * declare const zsumNormal: Float64Array, nNormal: number; // sum and count of the embeddings with ||z - c||² < t
 * const tau = bundle.calibration.threshold;
 * const centers = new CenterTracker({ center: params.center, mode: 'gated-ema', alpha: 0.005, gate: () => tau });
 * const c = centers.current('cam0'); const t = centers.tau('cam0');
 * centers.update('cam0', zsumNormal, nNormal);
 * ```
 */
export class CenterTracker {
  /** Embedding dimension D. */
  readonly dims: number;
  /** The mode in use. */
  readonly mode: CenterMode;
  /** α in use. */
  readonly alpha: number;
  readonly #initial: Float32Array;
  readonly #centers = new Map<string, Float32Array>();
  readonly #gate: ((cameraId: string) => number) | undefined;
  readonly #onUpdate: CenterTrackerOptions['onUpdate'];
  readonly #options: CenterTrackerOptions;
  #giveBack: (() => void) | undefined;

  constructor(options: CenterTrackerOptions) {
    this.#options = options;
    const mode = options.mode ?? 'frozen';
    const alpha = options.alpha ?? DEFAULT_CENTER_ALPHA;
    if (!['frozen', 'ema', 'gated-ema'].includes(mode)) {
      throw new ModelParamsError('center.mode', `${JSON.stringify(mode)} must be frozen, ema or gated-ema`);
    }
    if (!(alpha >= 0 && alpha <= 1))
      throw new ModelParamsError('center.alpha', `${alpha} must be within [0, 1]`);
    const initial = Float32Array.from(options.center);
    if (initial.length === 0) throw new ModelParamsError('center', 'is empty');
    const bad = initial.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new ModelParamsError(`center[${bad}]`, `${initial[bad]} is not finite`);
    if (mode === 'gated-ema' && options.gate === undefined) {
      throw new ModelParamsError('center.gate', 'gated-ema needs a gate() returning the current threshold');
    }
    this.mode = mode;
    this.alpha = alpha;
    this.dims = initial.length;
    this.#initial = initial;
    this.#gate = options.gate;
    this.#onUpdate = options.onUpdate;
  }

  /** Whether frames move the centre at all (mode not `frozen` and α > 0). */
  get tracking(): boolean {
    return this.mode !== 'frozen' && this.alpha > 0;
  }

  /** The centre a camera's next frame is scored against (never mutated afterwards). */
  current(cameraId: string): Float32Array {
    return this.#centers.get(cameraId) ?? this.#initial;
  }

  /** The gate τ for a camera's next frame: +Infinity (every pixel) unless `gated-ema`, -Infinity when not tracking. */
  tau(cameraId: string): number {
    if (!this.tracking) return Number.NEGATIVE_INFINITY;
    if (this.mode === 'ema') return Number.POSITIVE_INFINITY;
    return this.#gate?.(cameraId) ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Moves a camera's centre towards `sum / count` (no-op when not tracking or `count` is 0)
   * and reports it to `onUpdate`. Returns the new centre, or undefined when nothing moved.
   */
  update(cameraId: string, sum: ArrayLike<number>, count: number): Float32Array | undefined {
    if (!this.tracking || !(count > 0)) return undefined;
    const center = this.current(cameraId);
    const { alpha, dims } = this;
    const next = new Float32Array(dims);
    for (let i = 0; i < dims; i++) next[i] = (1 - alpha) * center[i]! + (alpha * sum[i]!) / count;
    this.#centers.set(cameraId, next);
    if (this.#onUpdate !== undefined) {
      let drift = 0;
      for (let i = 0; i < dims; i++) drift += (next[i]! - this.#initial[i]!) ** 2;
      this.#onUpdate(next, Math.sqrt(drift), cameraId);
    }
    return next;
  }

  /** A new tracker with the same options and start (as copied at construction) and no camera state (one per subscription). */
  fresh(): CenterTracker {
    const tracker = new CenterTracker({ ...this.#options, center: this.#initial });
    tracker.#giveBack = this.#options.checkpoints?.lendCenter({
      save: (camera) => {
        const center = tracker.#centers.get(camera);
        return center === undefined ? undefined : float32Base64(center);
      },
      load: (camera, state) => {
        if (state === undefined) {
          tracker.#centers.delete(camera);
          return;
        }
        const center = float32FromBase64(state);
        if (center.length !== tracker.dims) {
          throw new Error(`its centre has ${center.length} values, the model's ${tracker.dims}`);
        }
        if (center.some((v) => !Number.isFinite(v)))
          throw new Error('its centre holds a value that is not finite');
        tracker.#centers.set(camera, center);
      },
    });
    return tracker;
  }

  /** Forgets every camera's centre (and stops lending them to checkpoints). */
  clear(): void {
    this.#centers.clear();
    this.#giveBack?.();
    this.#giveBack = undefined;
  }
}
