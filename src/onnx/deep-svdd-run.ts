import type { ChunkPrep, ChunkRunner, RunnableGraph } from './chunk-runner.js';
import { defaultChunkPixels } from './chunk-size.js';
import { DEEP_SVDD_IO, type GraphInputType } from './deep-svdd-graph.js';
import { OnnxRuntimeError } from './onnx-errors.js';

/** One block's input to {@link runDeepSvdd}. */
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

/** Adds one chunk's `zsum_normal` into `total` (float64) and returns its `n_normal`. */
function addChunkSums(total: Float64Array, sum: unknown, count: unknown, describe: string): number {
  if (!(sum instanceof Float32Array) || sum.length !== total.length || !(count instanceof Float32Array)) {
    throw new OnnxRuntimeError('run', describe, 'zsum_normal / n_normal outputs are missing or mis-sized');
  }
  for (let d = 0; d < sum.length; d++) total[d]! += sum[d]!;
  return count[0] ?? 0;
}

/**
 * Scores one block with a Deep SVDD graph (`buildDeepSvddGraph`) on a {@link ChunkRunner}, in
 * chunks of `chunkPixels` (default {@link defaultChunkPixels}), and adds the chunks' gated sums in pixel order (float64): the same
 * scores and sums whether the chunks ran in this thread or on several workers at once.
 *
 * @param key - the graph's key in the runner (e.g. input type + wavelength vector)
 * @param build - builds the graph on the key's first use
 * @throws {@link OnnxRuntimeError} (phase `create` or `run`) naming the graph
 * @example
 * ```ts
 * const runner = new PoolChunkRunner({ workers: 2 });
 * const { scores, zsumNormal, nNormal } = await runDeepSvdd(runner, 'uint16|61', () => graph, input);
 * ```
 */
export async function runDeepSvdd(
  runner: ChunkRunner,
  key: string,
  build: () => RunnableGraph,
  input: DeepSvddRunInput,
  options: { readonly chunkPixels?: number; readonly prep?: ChunkPrep } = {},
): Promise<DeepSvddRunOutput> {
  const { center } = input;
  const { scores, chunkOutputs } = await runner.run(key, build, {
    data: input.data,
    inputType: input.inputType,
    pixels: input.pixels,
    bands: input.bands,
    chunkPixels: options.chunkPixels ?? defaultChunkPixels(input.bands, input.inputType === 'uint16' ? 2 : 4),
    inputName: DEEP_SVDD_IO.x,
    scoresName: DEEP_SVDD_IO.scores,
    feeds: {
      [DEEP_SVDD_IO.center]: { data: Float32Array.from(center), dims: [center.length] },
      [DEEP_SVDD_IO.tau]: { data: Float32Array.of(input.tau), dims: [1] },
    },
    outputs: [DEEP_SVDD_IO.zsumNormal, DEEP_SVDD_IO.nNormal],
    ...(options.prep === undefined ? {} : { prep: options.prep }),
  });
  const zsumNormal = new Float64Array(center.length);
  let nNormal = 0;
  for (const [sum, count] of chunkOutputs) nNormal += addChunkSums(zsumNormal, sum, count, `graph ${key}`);
  return { scores, zsumNormal, nNormal };
}
