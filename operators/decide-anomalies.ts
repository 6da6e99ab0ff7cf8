import { concatWith, defer, finalize, map, mergeMap, type OperatorFunction } from 'rxjs';
import type { ThresholdedFrame } from '../src/core/scored-frame.js';
import { BlockAssembler } from './internal/block-assembler.js';
import type { Connectivity } from './internal/connected-components.js';
import { type DecisionFrame, decideMask, maskOf, type VerdictRule } from './internal/decide-core.js';
import { requireInteger, requireOneOf } from './internal/errors.js';

export { BlockMismatchError } from './internal/block-assembler.js';
export type { DecisionFrame } from './internal/decide-core.js';
export { OperatorOptionsError } from './internal/errors.js';

/** Options of {@link decideAnomalies}. */
export interface DecideAnomaliesOptions {
  /** Frame anomalous iff at least this many pixels are (default 1); ignored when `minArea` is set. */
  readonly minPixels?: number;
  /** When set: frame anomalous iff some blob has at least this many pixels. */
  readonly minArea?: number;
  /** Pixel adjacency for blobs (default 8). */
  readonly connectivity?: Connectivity;
  /** `block` (default): one decision per block; `frame`: assemble a frame's blocks first. */
  readonly assemble?: 'block' | 'frame';
  /** Written into every decision (default: the frame's `modelVersion`, else `unknown`). */
  readonly modelVersion?: string;
  /** Clock for `decidedAt`, epoch ms (default `Date.now`). */
  readonly now?: () => number;
  /** `frame` mode: frames waiting per camera before the oldest is flushed incomplete (default 4). */
  readonly maxPendingFrames?: number;
}

/**
 * Pixel and frame verdicts (DESIGN §3.9, §4): a pixel is anomalous iff score >= τ; blobs are
 * its connected components (4- or 8-adjacency, linear-time two-pass labelling) with bbox
 * (`y` in whole-frame rows), area and max score; the frame is anomalous iff `anomalousPixels`
 * >= `minPixels`, or, with `minArea`, iff some blob has area >= `minArea`. Emits a
 * {@link DecisionFrame} carrying the mask and the `cubestream.decision/1` message.
 *
 * `assemble: 'block'` decides each block on its own (a blob crossing a block edge is reported
 * once per block). `assemble: 'frame'` buffers the blocks of a `frameId` until `rowOffset`/
 * `totalRows` show the frame complete and decides the whole frame (blobs across block edges are
 * one blob; each block keeps its own τ; `threshold` reports the lowest). A frame whose blocks
 * stop arriving is flushed when a newer frame of its camera completes, when more than
 * `maxPendingFrames` wait, or when the stream completes; its `missingRows` say how many rows
 * never came and `pixels` counts the received ones. A block arriving after its frame was
 * decided is decided on its own. Buffers are dropped on error or unsubscribe.
 *
 * @throws {@link OperatorOptionsError} at build time for a bad option
 * @throws {@link BlockMismatchError} (the stream errors) when blocks of one frame disagree on width or totalRows
 * @example
 * ```ts
 * thresholded$.pipe(decideAnomalies({ minArea: 4, assemble: 'frame', modelVersion: bundle.version }))
 *   .subscribe((f) => mqtt.publish(`cubestream/${f.cameraId}/decisions`, encodeDecision(f.decision)));
 * ```
 */
export function decideAnomalies(
  options: DecideAnomaliesOptions = {},
): OperatorFunction<ThresholdedFrame, DecisionFrame> {
  const name = 'decideAnomalies';
  const rule: VerdictRule = {
    minPixels: requireInteger(`${name}.minPixels`, options.minPixels ?? 1, 1),
    minArea:
      options.minArea === undefined ? undefined : requireInteger(`${name}.minArea`, options.minArea, 1),
    connectivity: requireOneOf(`${name}.connectivity`, options.connectivity ?? 8, [4, 8] as const),
    modelVersion: options.modelVersion,
    now: options.now ?? Date.now,
  };
  const assemble = requireOneOf(`${name}.assemble`, options.assemble ?? 'block', ['block', 'frame'] as const);
  const maxPending = requireInteger(`${name}.maxPendingFrames`, options.maxPendingFrames ?? 4, 1);

  const decideBlock = (block: ThresholdedFrame): DecisionFrame => {
    const { mask, maxScore } = maskOf(block);
    return decideMask(block, mask, block.scores.length, maxScore, 0, rule);
  };
  if (assemble === 'block') return map(decideBlock);

  return (source) =>
    defer(() => {
      const assembler = new BlockAssembler(maxPending);
      const decideAssembled = (frames: ReturnType<BlockAssembler['flushAll']>): DecisionFrame[] =>
        frames.map((a) => decideMask(a.frame, a.mask, a.pixels, a.maxScore, a.missingRows, rule));
      const tail = defer(() => decideAssembled(assembler.flushAll()));
      return source.pipe(
        mergeMap((block) => {
          const { frames, late } = assembler.add(block);
          return late === undefined ? decideAssembled(frames) : [decideBlock(late)];
        }),
        concatWith(tail),
        finalize(() => assembler.clear()),
      );
    });
}
