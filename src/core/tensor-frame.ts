import type * as tf from '@tensorflow/tfjs';
import type { CubeFrame, WavelengthUnits } from './frame.js';
import type { FrameIdentity } from './scored-frame.js';

/**
 * A frame on the tensor side of the pipeline: a {@link CubeFrame} whose `data` lives in a tfjs
 * tensor. `bands`, `wavelengths` and `wavelengthUnits` describe the tensor's current channels
 * (after bandpass: the kept bands; after projection: the embedding dimensions, as indices).
 *
 * Ownership rule: **the frame owns its tensor.** Each operator disposes the tensors of the frames
 * it consumes and emits frames owning new tensors (an operator that passes a tensor through
 * unchanged hands its ownership on). On error, complete or unsubscribe, an operator disposes
 * whatever it holds (a frame that made it fail, cached index tensors, parameter tensors). Whoever
 * takes a frame out of the stream (a test, a trainer) disposes it with {@link disposeTensorFrame}.
 */
export interface TensorFrame extends Omit<CubeFrame, 'data'> {
  /** `[height * width, bands]` float32, pixel-major; owned by this frame. */
  readonly pixels: tf.Tensor2D;
}

/** A frame of embeddings with the Deep SVDD centre that applies to it (set by `trackCenter`). */
export interface CenteredTensorFrame extends TensorFrame {
  /** Centre `c` (length `bands`) at the time the frame was scored; never mutated afterwards. */
  readonly center: Float32Array;
}

/** New channel description for {@link withPixels}. */
export interface ChannelInfo {
  readonly bands: number;
  readonly wavelengths: Float32Array;
  readonly wavelengthUnits: WavelengthUnits;
}

/**
 * Releases the tensor a frame owns. Safe to call twice.
 *
 * @example
 * ```ts
 * import { lastValueFrom, toArray } from 'rxjs';
 * import { toTensorFrame } from 'cubestream/operators';
 * const frames = await lastValueFrom(frames$.pipe(toTensorFrame(), toArray()));
 * frames.forEach(disposeTensorFrame);
 * ```
 */
export function disposeTensorFrame(frame: TensorFrame): void {
  if (!frame.pixels.isDisposed) frame.pixels.dispose();
}

/**
 * A copy of `frame` carrying `pixels` (and, when given, new channel information). The caller
 * disposes the old tensor unless it is the same one.
 */
export function withPixels<F extends TensorFrame>(frame: F, pixels: tf.Tensor2D, channels?: ChannelInfo): F {
  return channels === undefined ? { ...frame, pixels } : { ...frame, pixels, ...channels };
}

/**
 * The identity and geometry of a frame without its channels or tensors: the base of a
 * `ScoredFrame`. Keeps `labels` and `timings`.
 */
export function tensorFrameIdentity(frame: TensorFrame | CenteredTensorFrame): FrameIdentity {
  const {
    pixels: _pixels,
    bands: _bands,
    wavelengths: _wavelengths,
    wavelengthUnits: _units,
    center: _center,
    ...identity
  } = frame as CenteredTensorFrame;
  return identity;
}
