/**
 * Why something that was captured never got a decision: the `reason` label of
 * `cubestream_frames_dropped_total` (docs/metrics.md). One list for the metric, two owners:
 * - the queue in front of the scorer drops blocks (`queue_full_oldest`, `queue_full_newest`:
 *   operators/backpressure.ts);
 * - a camera source loses camera frames, each one line of a line-scan camera, before they make a
 *   block: `incomplete` (the camera's buffer came back incomplete, e.g. GigE Vision packets
 *   lost, or could not be read), `gap` (frame ids that never arrived at all);
 * - the scorer fails on a valid block (`scorer_error`: onnxruntime could not run it).
 */

/** Reasons the backpressure queue drops a block. */
export const QUEUE_DROP_REASONS = ['queue_full_oldest', 'queue_full_newest'] as const;

/** Reasons a camera source loses camera lines. */
export const SOURCE_DROP_REASONS = ['incomplete', 'gap'] as const;

/** Reasons the scorer gives up a block. */
export const SCORER_DROP_REASONS = ['scorer_error'] as const;

/** Every `reason` of `cubestream_frames_dropped_total`, in the order documented above. */
export const FRAME_DROP_REASONS = [
  ...QUEUE_DROP_REASONS,
  ...SOURCE_DROP_REASONS,
  ...SCORER_DROP_REASONS,
] as const;

/** A reason the backpressure queue drops a block. */
export type QueueDropReason = (typeof QUEUE_DROP_REASONS)[number];

/** A reason a camera source loses camera lines. */
export type SourceDropReason = (typeof SOURCE_DROP_REASONS)[number];

/** Any `reason` of `cubestream_frames_dropped_total`. */
export type FrameDropReason = (typeof FRAME_DROP_REASONS)[number];
