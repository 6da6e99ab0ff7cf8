import { Tensor } from 'onnxruntime-node';
import { concatMap, defer, finalize, type OperatorFunction } from 'rxjs';
import { ChannelCountError } from '../src/model/model-errors.js';
import type { RxModel } from '../src/model/rx-stats.js';
import { DEFAULT_CHUNK_PIXELS } from '../src/onnx/deep-svdd-run.js';
import { OnnxRuntimeError } from '../src/onnx/onnx-errors.js';
import { createOrtSession } from '../src/onnx/ort-session.js';
import { buildRxGraph, type RxGraph, validateRxModel } from '../src/onnx/rx-graph.js';
import { SessionCache } from '../src/onnx/session-cache.js';
import { type FusedInputFrame, frameElementType } from '../src/onnx/uint16-frame.js';
import type { ScoredFrame } from '../src/scored-frame.js';

/** Options of {@link fusedRxScore}. */
export interface FusedRxScoreOptions {
  /** Model version copied into every `ScoredFrame`. */
  readonly modelVersion?: string;
  /** onnxruntime intra-op threads (default 2). */
  readonly threads?: number;
  /** Let idle onnxruntime threads spin (default true); `false` on a machine shared with other work. */
  readonly spinning?: boolean;
  /** Pixels per onnxruntime run (default 8,192), scores written in place. */
  readonly chunkPixels?: number;
  /** Stage name under which the score time is stamped into `timings` (default `fusedRxScore`). */
  readonly stampAs?: string;
}

const STAGE = 'rxScore';

/**
 * The RX baseline (DESIGN §3.10) on onnxruntime-node: s = ||W(x - μ)||² per pixel, WᵀW = Σ⁺
 * factored once in float64, exactly what `rxScore` computes on tfjs. Takes float32 frames or
 * raw uint16 counts (cast in the graph); one session per element type, released on finalize
 * after any run in flight; frames come out in order.
 *
 * @throws {@link ModelParamsError} at build time when `mean`/`covInverse` do not fit `bands` or are not finite
 * @throws {@link ChannelCountError} (reason `bands`, stage `rxScore`) when a frame does not have `model.bands` channels
 * @throws {@link InvalidFrameError} (reason `shape`) when `data` does not hold `height*width*bands` values
 * @throws {@link OnnxRuntimeError} when onnxruntime fails to create or run the session
 * @example
 * ```ts
 * frames$.pipe(fusedRxScore(fitRx(stats), { modelVersion: 'rx-1' }), quantileThreshold({ q: 0.995 }))
 * ```
 */
export function fusedRxScore(
  model: RxModel,
  options: FusedRxScoreOptions = {},
): OperatorFunction<FusedInputFrame, ScoredFrame> {
  validateRxModel(model);
  const version = options.modelVersion === undefined ? {} : { modelVersion: options.modelVersion };
  const stamp = options.stampAs ?? 'fusedRxScore';
  const { threads } = options;
  const chunkPixels = Math.max(1, Math.floor(options.chunkPixels ?? DEFAULT_CHUNK_PIXELS));

  return (source) =>
    defer(() => {
      const sessions = new SessionCache<RxGraph>();
      const score = async (frame: FusedInputFrame): Promise<ScoredFrame> => {
        const inputType = frameElementType(frame);
        if (frame.bands !== model.bands) throw new ChannelCountError(STAGE, model.bands, frame.bands);
        const { session, meta } = await sessions.get(inputType, async () => {
          const graph = buildRxGraph(model, { inputType });
          const created = await createOrtSession(graph.bytes, {
            describe: graph.describe,
            ...(threads === undefined ? {} : { threads }),
            ...(options.spinning === undefined ? {} : { spinning: options.spinning }),
          });
          return { session: created, meta: graph };
        });
        const pixels = frame.height * frame.width;
        const scores = new Float32Array(pixels);
        const { bands } = frame;
        for (let start = 0; start < pixels; start += chunkPixels) {
          const n = Math.min(chunkPixels, pixels - start);
          try {
            await sessions.track(
              session.run(
                {
                  x: new Tensor(inputType, frame.data.subarray(start * bands, (start + n) * bands), [
                    n,
                    bands,
                  ]),
                },
                { scores: new Tensor('float32', scores.subarray(start, start + n), [n]) },
              ),
            );
          } catch (cause) {
            throw new OnnxRuntimeError('run', meta.describe, cause);
          }
        }
        const { data: _d, bands: _b, wavelengths: _w, wavelengthUnits: _u, ...identity } = frame;
        return { ...identity, timings: { ...identity.timings, [stamp]: Date.now() }, scores, ...version };
      };
      return source.pipe(
        concatMap(score),
        finalize(() => void sessions.releaseAll()),
      );
    });
}
