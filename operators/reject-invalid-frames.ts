import { filter, type OperatorFunction } from 'rxjs';
import {
  type CubeFrame,
  DEFAULT_MAX_FRAME_VALUES,
  InvalidFrameError,
  validateFrame,
} from '../src/core/frame.js';
import { checkFrameMatchesInput, type InputSpec } from '../src/model/input-spec.js';

/** Options of {@link rejectInvalidFrames}. */
export interface RejectInvalidFramesOptions {
  /** What the model expects; frames with other bands are rejected (reason `bands`/`wavelengths`). */
  readonly input?: InputSpec;
  /** Largest `height*width*bands` accepted (default 2^28). */
  readonly maxValues?: number;
  /** Wavelength tolerance in nm (default 0.5). */
  readonly toleranceNm?: number;
  /** Called with each rejected frame and the named error saying why; the stream goes on. */
  readonly onReject?: (frame: CubeFrame, error: InvalidFrameError) => void;
}

/**
 * The pipeline's gate: validates each frame (shape, size, NaN/Inf, metadata; docs/architecture.md §2) and,
 * given the model's input, its bands and wavelengths. A bad frame is handed to `onReject` with an
 * {@link InvalidFrameError} (its `code` is the `reason` label) and left out; the stream never
 * errors on bad input, so frames already accepted are not lost.
 *
 * @example
 * ```ts
 * import { deadLetterFromError, DeadLetterSink, JsonlDeadLetterFile } from 'cubestream/connectors';
 * const deadLetters = new DeadLetterSink([new JsonlDeadLetterFile({ path: 'dead.jsonl' })]);
 * frames$.pipe(rejectInvalidFrames({ input: bundle.manifest.input,
 *   onReject: (f, e) => {
 *     metrics.framesRejected.inc({ camera: f.cameraId, reason: e.code });
 *     void deadLetters.publish(deadLetterFromError(e, { cameraId: f.cameraId, frameId: f.frameId }));
 *   } }))
 * ```
 */
export function rejectInvalidFrames(
  options: RejectInvalidFramesOptions = {},
): OperatorFunction<CubeFrame, CubeFrame> {
  const limits = { maxValues: options.maxValues ?? DEFAULT_MAX_FRAME_VALUES };
  return filter((frame) => {
    try {
      validateFrame(frame, limits);
      if (options.input !== undefined) checkFrameMatchesInput(options.input, frame, options.toleranceNm);
      return true;
    } catch (error) {
      const invalid =
        error instanceof InvalidFrameError
          ? error
          : new InvalidFrameError('metadata', 'frame', frame?.cameraId, String(error), { cause: error });
      options.onReject?.(frame, invalid);
      return false;
    }
  });
}
