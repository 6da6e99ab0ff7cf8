import { type InferenceSession, Tensor } from 'onnxruntime-node';
import { DEEP_SVDD_IO, type GraphInputType } from './deep-svdd-graph.js';
import { OnnxRuntimeError } from './onnx-errors.js';

/**
 * Default pixels per `session.run`. A whole 64,000-pixel block makes a 33 MB hidden activation
 * (128 floats per pixel) that spills out of the caches between the two Gemms; 8,192 pixels keep
 * it at 4 MB. Measured here: 8,192-pixel chunks cut CPU time per block by about a third
 * against one 64,000-pixel run (see bench/README.md).
 */
export const DEFAULT_CHUNK_PIXELS = 8192;

/** One block's input to {@link runDeepSvddChunked}. */
export interface DeepSvddRunInput {
  /** `[pixels, bands]` spectra, pixel-major. */
  readonly data: Float32Array | Uint16Array;
  readonly inputType: GraphInputType;
  readonly pixels: number;
  readonly bands: number;
  /** Centre to score against (length D). */
  readonly center: Float32Array;
  /** Gate τ for `zsum_normal` / `n_normal` (+Infinity: every pixel; -Infinity: none). */
  readonly tau: number;
}

/** Scores of a block and the sums the centre update needs. */
export interface DeepSvddRunOutput {
  /** One score per pixel (a new array owned by the caller). */
  readonly scores: Float32Array;
  /** Sum of z over the pixels scoring below τ, accumulated over chunks in float64. */
  readonly zsumNormal: Float64Array;
  /** How many pixels scored below τ. */
  readonly nNormal: number;
}

/**
 * Runs a Deep SVDD graph over a block in chunks of `chunkPixels` (views into `data`, no copy),
 * writing each chunk's scores straight into the block's score array (pre-allocated outputs)
 * and adding up the gated sums. `track` wraps each run (e.g. `SessionCache#track`).
 *
 * @throws {@link OnnxRuntimeError} (phase `run`) naming `describe` when a run fails
 * @example
 * ```ts
 * const { scores, zsumNormal, nNormal } = await runDeepSvddChunked(session, input, { describe: graph.describe });
 * ```
 */
export async function runDeepSvddChunked(
  session: InferenceSession,
  input: DeepSvddRunInput,
  options: {
    readonly describe: string;
    readonly chunkPixels?: number;
    readonly track?: <T>(run: Promise<T>) => Promise<T>;
  },
): Promise<DeepSvddRunOutput> {
  const { data, inputType, pixels, bands, center } = input;
  const chunk = Math.max(1, Math.floor(options.chunkPixels ?? DEFAULT_CHUNK_PIXELS));
  const track = options.track ?? (<T>(run: Promise<T>) => run);
  const scores = new Float32Array(pixels);
  const zsumNormal = new Float64Array(center.length);
  let nNormal = 0;
  const centerTensor = new Tensor('float32', center, [center.length]);
  const tauTensor = new Tensor('float32', Float32Array.of(input.tau), [1]);
  for (let start = 0; start < pixels; start += chunk) {
    const n = Math.min(chunk, pixels - start);
    let out: InferenceSession.ReturnType;
    try {
      out = await track(
        session.run(
          {
            [DEEP_SVDD_IO.x]: new Tensor(inputType, data.subarray(start * bands, (start + n) * bands), [
              n,
              bands,
            ]),
            [DEEP_SVDD_IO.center]: centerTensor,
            [DEEP_SVDD_IO.tau]: tauTensor,
          },
          {
            [DEEP_SVDD_IO.scores]: new Tensor('float32', scores.subarray(start, start + n), [n]),
            [DEEP_SVDD_IO.zsumNormal]: null,
            [DEEP_SVDD_IO.nNormal]: null,
          },
        ),
      );
    } catch (cause) {
      throw new OnnxRuntimeError('run', options.describe, cause);
    }
    const sum = out[DEEP_SVDD_IO.zsumNormal]?.data;
    const count = out[DEEP_SVDD_IO.nNormal]?.data;
    if (!(sum instanceof Float32Array) || sum.length !== center.length || !(count instanceof Float32Array)) {
      throw new OnnxRuntimeError(
        'run',
        options.describe,
        'zsum_normal / n_normal outputs are missing or mis-sized',
      );
    }
    for (let d = 0; d < sum.length; d++) zsumNormal[d]! += sum[d]!;
    nNormal += count[0] ?? 0;
  }
  return { scores, zsumNormal, nNormal };
}
