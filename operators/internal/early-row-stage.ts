import { concatMap, Observable, type OperatorFunction } from 'rxjs';
import type { RowsReady } from '../../src/core/rows-ready.js';
import type { ScoredFrame } from '../../src/core/scored-frame.js';
import type { ChunkSums } from '../../src/scoring/onnx/deep-svdd-run.js';
import {
  EarlyRowScorer,
  type ScoredPart,
  type ScoringInput,
  type ScoringSnapshot,
} from '../../src/scoring/onnx/early-row-scorer.js';
import type { FusedInputFrame } from '../../src/scoring/onnx/uint16-frame.js';

/** A block's scores, complete, as {@link EarlyRowStageOptions.finish} gets them. */
export interface CompleteScores {
  /** One score per pixel of the block. */
  readonly scores: Float32Array;
  /** Every chunk's outputs, in pixel order. */
  readonly chunks: readonly ChunkSums[];
  /** The centre and τ the block was scored with. */
  readonly snapshot: ScoringSnapshot;
  /** Pixels scored from early rows before the frame arrived. */
  readonly earlyPixels: number;
}

/** Options of {@link earlyRowStage}. */
export interface EarlyRowStageOptions {
  /** Rows of blocks still being captured; absent: every block is scored when its frame comes. */
  readonly earlyRows: Observable<RowsReady> | undefined;
  /** Scores pixels `from .. to-1` of a block under `snapshot`, in chunks of `chunkPixels(block)` on the block's grid when `earlyRows` is given; rejects for a bad block. */
  readonly scorePart: (
    block: ScoringInput,
    from: number,
    to: number,
    snapshot: ScoringSnapshot,
  ) => Promise<ScoredPart>;
  /** What a camera's next block is scored with now. */
  readonly snapshot: (cameraId: string) => ScoringSnapshot;
  /** A block's chunk size (and grid). */
  readonly chunkPixels: (block: ScoringInput) => number;
  /** Builds the output of a block whose scores are complete (updates state, stamps timings). */
  readonly finish: (frame: FusedInputFrame, scored: CompleteScores) => ScoredFrame;
  /** Releases the scorer's resources when the subscription ends. */
  readonly release: () => void;
}

/**
 * The frame loop the fused scorers share: frames scored in order (concatMap), and, with
 * `earlyRows`, the rows of blocks still being captured scored ahead by an {@link EarlyRowScorer}
 * between frames; a frame takes what was scored of its block and scores the rest. Early runs
 * resume once downstream has taken a frame (a macrotask later, so that a rolling threshold a
 * few promise turns downstream has set the next τ), unless the next frame has come in by then.
 */
export function earlyRowStage(options: EarlyRowStageOptions): OperatorFunction<FusedInputFrame, ScoredFrame> {
  return (source) =>
    new Observable<ScoredFrame>((subscriber) => {
      const { earlyRows, scorePart } = options;
      const early =
        earlyRows === undefined
          ? undefined
          : new EarlyRowScorer({
              run: scorePart,
              snapshot: options.snapshot,
              chunkPixels: options.chunkPixels,
            });
      let scoring = false;

      const score = async (frame: FusedInputFrame): Promise<ScoredFrame> => {
        scoring = true;
        const pixels = frame.height * frame.width;
        await early?.pause();
        const snapshot = options.snapshot(frame.cameraId);
        const done = early?.claim(frame, snapshot);
        let scores: Float32Array;
        let chunks: readonly ChunkSums[];
        if (done === undefined) ({ scores, chunks } = await scorePart(frame, 0, pixels, snapshot));
        else if (done.pixels === pixels) ({ scores, chunks } = done);
        else {
          const rest = await scorePart(frame, done.pixels, pixels, snapshot);
          scores = done.scores;
          scores.set(rest.scores, done.pixels);
          chunks = [...done.chunks, ...rest.chunks];
        }
        return options.finish(frame, { scores, chunks, snapshot, earlyPixels: done?.pixels ?? 0 });
      };

      const rows = earlyRows?.subscribe({
        next: (ready) => early?.offer(ready),
        error: () => early?.close(), // the blocks are still scored, whole
      });
      const frames = source.pipe(concatMap(score)).subscribe({
        next: (frame) => {
          scoring = false;
          subscriber.next(frame);
          if (early !== undefined) {
            setImmediate(() => {
              if (!scoring) early.resume();
            });
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        rows?.unsubscribe();
        frames.unsubscribe();
        early?.close();
        options.release();
      };
    });
}
