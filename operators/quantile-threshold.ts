import { map, type OperatorFunction } from 'rxjs';
import { quantileOf } from '../src/core/quantile.js';
import type { ScoredFrame, ThresholdedFrame } from '../src/core/scored-frame.js';
import { firstNaN, NonFiniteScoreError, requireInRange } from './internal/errors.js';

export { NonFiniteScoreError } from './internal/errors.js';

/** Options of {@link quantileThreshold}. */
export interface QuantileThresholdOptions {
  /** Quantile level q in [0, 1] (default 0.995, cuvis's choice). */
  readonly q?: number;
}

/** cuvis's quantile level: 0.5% of every frame is flagged. */
export const DEFAULT_QUANTILE = 0.995;

/**
 * cuvis parity threshold (docs/maths.md §3.8): τ = the q-quantile of the frame's (or block's) own
 * scores with numpy's default linear interpolation (h = (n-1)·q between sorted[⌊h⌋] and
 * sorted[⌈h⌉]), found by selection in expected linear time. Stateless: each frame is thresholded
 * on its own, so a share 1 - q of every frame is at or above τ even on a clean belt; use
 * {@link rollingQuantileThreshold} in production.
 *
 * @throws `OptionError` at build time for q outside [0, 1]
 * @throws {@link NonFiniteScoreError} (the stream errors) for a frame holding a NaN score
 * @example
 * ```ts
 * import { decideAnomalies } from 'cubestream/operators';
 * scored$.pipe(quantileThreshold({ q: 0.995 }), decideAnomalies({ modelVersion: 'v1' }))
 * ```
 */
export function quantileThreshold(
  options: QuantileThresholdOptions = {},
): OperatorFunction<ScoredFrame, ThresholdedFrame> {
  const q = requireInRange('quantileThreshold.q', options.q ?? DEFAULT_QUANTILE, 0, 1);
  return map((frame) => {
    const bad = firstNaN(frame.scores);
    if (bad >= 0) throw new NonFiniteScoreError(frame.cameraId, frame.frameId, bad);
    return { ...frame, threshold: quantileOf(frame.scores, q) };
  });
}
