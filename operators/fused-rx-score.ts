import { defer, type Observable, type OperatorFunction } from 'rxjs';
import type { RowsReady } from '../src/core/rows-ready.js';
import type { ScoredFrame } from '../src/core/scored-frame.js';
import { ChannelCountError } from '../src/model/model-errors.js';
import type { RxModel } from '../src/model/rx-stats.js';
import { scorerChunkPixels } from '../src/scoring/onnx/chunk-size.js';
import {
  type ChunkRunnerOptions,
  checkChunkRunnerOptions,
  holdChunkRunner,
} from '../src/scoring/onnx/create-chunk-runner.js';
import type {
  FrameScored,
  ScoredPart,
  ScoringInput,
  ScoringSnapshot,
} from '../src/scoring/onnx/early-row-scorer.js';
import { buildRxGraph, validateRxModel } from '../src/scoring/onnx/rx-graph.js';
import { type FusedInputFrame, frameElementType } from '../src/scoring/onnx/uint16-frame.js';
import { earlyRowStage } from './internal/early-row-stage.js';

/** Options of {@link fusedRxScore}. */
export interface FusedRxScoreOptions extends ChunkRunnerOptions {
  /** Model version copied into every `ScoredFrame`. */
  readonly modelVersion?: string;
  /** Largest chunk of pixels per onnxruntime run (default `defaultChunkPixels`), scores written in place. */
  readonly chunkPixels?: number;
  /** Stage name under which the score time is stamped into `timings` (default `fusedRxScore`). */
  readonly stampAs?: string;
  /** Rows of blocks still being captured, scored ahead as in `fusedDeepSvddScore` (RX has no state, so they always count). */
  readonly earlyRows?: Observable<RowsReady>;
  /** Called after each block with how many of its pixels were scored ahead from `earlyRows`. */
  readonly onScored?: (scored: FrameScored) => void;
}

/** RX scores do not depend on any state: one snapshot for every block. */
const STATELESS: ScoringSnapshot = { center: new Float32Array(0), tau: 0 };

const STAGE = 'rxScore';

/**
 * The RX baseline (docs/maths.md §3.10) on onnxruntime-node: s = ||W(x - μ)||² per pixel, WᵀW = Σ⁺
 * factored once in float64, exactly what `rxScore` computes on tfjs. Takes float32 frames or
 * raw uint16 counts (cast in the graph); one graph per element type, run in chunks on worker
 * threads (or in this thread with `workers: 0`), released on finalize after any run in flight;
 * frames come out in order. With `earlyRows`, rows of blocks still being captured are scored
 * ahead, on a fixed chunk grid (see `fusedDeepSvddScore`).
 *
 * @throws {@link ModelParamsError} at build time when `mean`/`covInverse` do not fit `bands` or are not finite
 * @throws {@link ChannelCountError} (reason `bands`, stage `rxScore`) when a frame does not have `model.bands` channels
 * @throws {@link InvalidFrameError} (reason `shape`) when `data` does not hold `height*width*bands` values
 * @throws {@link OnnxRuntimeError} when onnxruntime fails to create or run the session
 * @example
 * ```ts
 * import { rxFromBundle } from 'cubestream';
 * import { quantileThreshold } from 'cubestream/operators';
 * frames$.pipe(fusedRxScore(rxFromBundle(bundle).rx, { modelVersion: bundle.manifest.version }), quantileThreshold({ q: 0.995 }))
 * ```
 */
export function fusedRxScore(
  model: RxModel,
  options: FusedRxScoreOptions = {},
): OperatorFunction<FusedInputFrame, ScoredFrame> {
  validateRxModel(model);
  const version = options.modelVersion === undefined ? {} : { modelVersion: options.modelVersion };
  const stamp = options.stampAs ?? 'fusedRxScore';
  checkChunkRunnerOptions(options); // fails now for a bad worker count

  return (source) =>
    defer(() => {
      const { runner, release } = holdChunkRunner(options);
      const chunkOf = (block: ScoringInput): number =>
        scorerChunkPixels(block, {
          chunkPixels: options.chunkPixels,
          early: options.earlyRows !== undefined,
        });
      const scorePart = async (block: ScoringInput, from: number, to: number): Promise<ScoredPart> => {
        const inputType = frameElementType(block);
        if (block.bands !== model.bands) throw new ChannelCountError(STAGE, model.bands, block.bands);
        const { scores } = await runner.run(inputType, () => buildRxGraph(model, { inputType }), {
          data: block.data.subarray(from * block.bands, to * block.bands),
          inputType,
          pixels: to - from,
          bands: block.bands,
          chunkPixels: chunkOf(block),
          grid: options.earlyRows !== undefined,
          inputName: 'x',
          scoresName: 'scores',
          feeds: {},
          outputs: [],
        });
        return { scores, chunks: [] };
      };
      return source.pipe(
        earlyRowStage({
          earlyRows: options.earlyRows,
          scorePart,
          snapshot: () => STATELESS,
          chunkPixels: chunkOf,
          finish: (frame, { scores, earlyPixels }) => {
            options.onScored?.({ cameraId: frame.cameraId, pixels: scores.length, earlyPixels });
            const { data: _d, bands: _b, wavelengths: _w, wavelengthUnits: _u, ...identity } = frame;
            return { ...identity, timings: { ...identity.timings, [stamp]: Date.now() }, scores, ...version };
          },
          release,
        }),
      );
    });
}
