/**
 * The threshold τ currently applied per camera, readable by other stages (the online
 * centre-tracking gate, the `cubestream_threshold{camera}` gauge, the status message).
 *
 * @example
 * ```ts
 * import { rollingQuantileThreshold, trackCenter } from 'cubestream/operators';
 * const threshold = rollingQuantileThreshold({ q: 0.995, window: { frames: 50 }, seed: bundle.calibration.threshold });
 * trackCenter({ center: params.center, mode: 'gated-ema', gate: (camera) => threshold.state.current(camera) });
 * ```
 */
export interface ThresholdState {
  /** τ last applied to `cameraId`'s frames; the seed for a camera not seen yet. */
  current(cameraId: string): number;
  /** Cameras with a τ of their own, in the order first seen. */
  cameras(): string[];
}

/** A {@link ThresholdState} that the threshold operator writes to. */
export interface MutableThresholdState extends ThresholdState {
  /** Records τ for `cameraId`. */
  set(cameraId: string, threshold: number): void;
}

/**
 * A threshold state answering `seed` until a camera's τ is set.
 *
 * @example
 * ```ts
 * const state = createThresholdState(4.2);
 * state.current('cam0'); // 4.2
 * state.set('cam0', 3.9);
 * state.current('cam0'); // 3.9
 * ```
 */
export function createThresholdState(seed: number): MutableThresholdState {
  const byCamera = new Map<string, number>();
  return {
    current: (cameraId) => byCamera.get(cameraId) ?? seed,
    cameras: () => [...byCamera.keys()],
    set: (cameraId, threshold) => {
      byCamera.set(cameraId, threshold);
    },
  };
}
