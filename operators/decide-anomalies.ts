import { concatWith, defer, finalize, map, mergeMap, type OperatorFunction } from 'rxjs';
import type { DecidedFrame } from '../src/core/decision.js';
import type { ThresholdedFrame } from '../src/core/scored-frame.js';
import { BlockAssembler } from './internal/block-assembler.js';
import type { Connectivity } from './internal/connected-components.js';
import { decideMask, maskOf, type VerdictRule } from './internal/decide-core.js';
import { requireInteger, requireOneOf } from './internal/errors.js';

export { BlockMismatchError } from './internal/block-assembler.js';

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
 * Pixel and frame verdicts (docs/maths.md §3.9, docs/wire-format.md §2): a pixel is anomalous iff score >= τ; blobs are
 * its connected components (4- or 8-adjacency, linear-time two-pass labelling) with bbox
 * (`y` in whole-frame rows), area and max score; the frame is anomalous iff `anomalousPixels`
 * >= `minPixels`, or, with `minArea`, iff some blob has area >= `minArea`. Emits a
 * {@link DecidedFrame} carrying the mask and the `cubestream.decision/1` message.
 *
 * `assemble: 'block'` decides each block on its own (a blob crossing a block edge is reported
 * once per block). `assemble: 'frame'` buffers the blocks of a `frameId` until `rowOffset`/
 * `totalRows` show the frame complete and decides the whole frame (blobs across block edges are
 * one blob; each block keeps its own τ; `threshold` reports the lowest). A frame whose blocks
 * stop arriving is flushed when a newer frame of its camera completes, when more than
 * `maxPendingFrames` wait, or when the stream completes; its `missingRows` say how many rows
 * never came and `pixels` counts the received ones. A block arriving after its frame was
 * decided is decided on its own. Buffers are dropped on error or unsubscribe. A block's
 * `release` (a pooled source's buffer) comes out on its decision; an assembled frame's
 * `release` releases every block it was made of, and blocks still buffered on error or
 * unsubscribe are released then.
 *
 * @throws `OptionError` at build time for a bad option
 * @throws {@link BlockMismatchError} (the stream errors) when blocks of one frame disagree on width or totalRows
 * @example
 * ```ts
 * import mqtt from 'mqtt';
 * import { encodeDecision } from 'cubestream';
 * import { quantileThreshold } from 'cubestream/operators';
 * const client = mqtt.connect('mqtt://127.0.0.1:1883');
 * scored$
 *   .pipe(quantileThreshold({ q: 0.995 }), decideAnomalies({ minArea: 4, assemble: 'frame', modelVersion: bundle.manifest.version }))
 *   .subscribe((f) => client.publish(`cubestream/${f.cameraId}/decisions`, encodeDecision(f.decision)));
 * ```
 */
export function decideAnomalies(
  options: DecideAnomaliesOptions = {},
): OperatorFunction<ThresholdedFrame, DecidedFrame> {
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

  const decideBlock = (block: ThresholdedFrame): DecidedFrame => {
    const { mask, maxScore } = maskOf(block);
    return decideMask(block, mask, block.scores.length, maxScore, 0, rule);
  };
  if (assemble === 'block') return map(decideBlock);

  return (source) =>
    defer(() => {
      const assembler = new BlockAssembler(maxPending);
      const decideAssembled = (frames: ReturnType<BlockAssembler['flushAll']>): DecidedFrame[] =>
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
