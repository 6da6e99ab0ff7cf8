import { filter, map, type OperatorFunction, pipe } from 'rxjs';
import { type CubeFrame, InvalidFrameError } from '../src/core/frame.js';
import { applyReflectance, type ReflectanceReferences, reflectanceGains } from '../src/core/reflectance.js';

/** Options of {@link radiometricCalibration}. */
export interface RadiometricCalibrationOptions {
  /**
   * Called with each frame that cannot be converted and the error saying why (its `code` is the
   * `reason` label); the frame is left out and its buffer released, and the stream goes on.
   */
  readonly onReject?: (frame: CubeFrame, error: InvalidFrameError) => void;
}

/**
 * Converts frames of camera counts to reflectance, `(DN - dark) / (white - dark)` per column and
 * band (docs/maths.md §4; dead pixel-bands, `white <= dark`, give 0). For sources that deliver
 * counts (ENVI replay, broker frames): put it before the detector. A GenICam source converts
 * line by line itself (with `applyReflectanceRow`) and does not need it; the service does not
 * wire this operator in.
 *
 * Each frame comes out as a new frame with data of its own and `radiometry: 'reflectance'`; the
 * input frame's buffer is released (its `release`) once copied. A frame is rejected, handed to
 * `onReject` and released, when its `width`/`bands` differ from the references' (reason
 * `shape`) or it already states `radiometry: 'reflectance'` (reason `radiometry`: converting
 * twice is a bug upstream). A frame that states nothing is taken as counts.
 *
 * @throws {@link ReflectanceReferencesError} at build time when the references are unusable
 * @example
 * ```ts
 * import { loadReferences } from 'cubestream';
 * import { radiometricCalibration, rejectInvalidFrames } from 'cubestream/operators';
 * const refs = await loadReferences('calibration/line-3');
 * frames$.pipe(radiometricCalibration(refs, { onReject: (f, e) => console.warn(e.message) }), rejectInvalidFrames());
 * ```
 */
export function radiometricCalibration(
  refs: ReflectanceReferences,
  options: RadiometricCalibrationOptions = {},
): OperatorFunction<CubeFrame, CubeFrame> {
  const gains = reflectanceGains(refs);
  const problem = (frame: CubeFrame): InvalidFrameError | undefined => {
    if (frame.radiometry === 'reflectance') {
      return new InvalidFrameError(
        'radiometry',
        'radiometry',
        frame.radiometry,
        'the frame is already in reflectance: it would be calibrated twice',
      );
    }
    if (frame.width !== gains.width) {
      return new InvalidFrameError(
        'shape',
        'width',
        frame.width,
        `the calibration references are ${gains.width} pixels wide`,
      );
    }
    if (frame.bands !== gains.bands) {
      return new InvalidFrameError(
        'shape',
        'bands',
        frame.bands,
        `the calibration references have ${gains.bands} bands`,
      );
    }
    if (frame.data.length !== frame.height * frame.width * frame.bands) {
      return new InvalidFrameError(
        'shape',
        'data',
        frame.data,
        `length must be height*width*bands = ${frame.height}*${frame.width}*${frame.bands}`,
      );
    }
    return undefined;
  };
  return pipe(
    filter((frame: CubeFrame) => {
      const error = problem(frame);
      if (error === undefined) return true;
      try {
        options.onReject?.(frame, error);
      } finally {
        frame.release?.();
      }
      return false;
    }),
    map((frame: CubeFrame): CubeFrame => {
      const data = applyReflectance(frame.data, gains);
      const { release, ...rest } = frame;
      release?.();
      return { ...rest, data, radiometry: 'reflectance' };
    }),
  );
}
