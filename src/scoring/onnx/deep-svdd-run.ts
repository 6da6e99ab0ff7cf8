import type { ChunkPrep, ChunkRunner, ChunkRunRequest, RunnableGraph } from './chunk-runner.js';
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

/** One chunk's gated sums, as the graph returns them (float32). */
export interface ChunkSums {
  readonly zsumNormal: Float32Array;
  readonly nNormal: number;
}

/** Scores of a block and the sums the centre update needs. */
export interface DeepSvddRunOutput {
  /** One score per pixel (a new array owned by the caller). */
  readonly scores: Float32Array;
  /** Each chunk's sums, in pixel order (to add to another run's with {@link sumChunks}). */
  readonly chunks: readonly ChunkSums[];
  /** Sum of z over the pixels scoring below τ: {@link sumChunks} of `chunks`. */
  readonly zsumNormal: Float64Array;
  /** How many pixels scored below τ. */
  readonly nNormal: number;
}

/**
 * Adds chunks' sums in order, in float64: the same chunks give the same totals however the
 * runs that made them were split.
 *
 * @example
 * ```ts
 * declare const early: DeepSvddRunOutput, rest: DeepSvddRunOutput; // rows scored ahead, then the rest of the block
 * const { zsumNormal, nNormal } = sumChunks([...early.chunks, ...rest.chunks], 32);
 * ```
 */
export function sumChunks(
  chunks: readonly ChunkSums[],
  dims: number,
): { zsumNormal: Float64Array; nNormal: number } {
  const zsumNormal = new Float64Array(dims);
  let nNormal = 0;
  for (const chunk of chunks) {
    for (let d = 0; d < dims; d++) zsumNormal[d]! += chunk.zsumNormal[d]!;
    nNormal += chunk.nNormal;
  }
  return { zsumNormal, nNormal };
}

/** One chunk's `zsum_normal` / `n_normal` outputs, checked. */
function chunkSums(sum: unknown, count: unknown, dims: number, describe: string): ChunkSums {
  if (!(sum instanceof Float32Array) || sum.length !== dims || !(count instanceof Float32Array)) {
    throw new OnnxRuntimeError('run', describe, 'zsum_normal / n_normal outputs are missing or mis-sized');
  }
  return { zsumNormal: sum, nNormal: count[0] ?? 0 };
}

/**
 * Scores one block with a Deep SVDD graph (`buildDeepSvddGraph`) on a {@link ChunkRunner}, in
 * chunks of `chunkPixels` (default {@link defaultChunkPixels}), and adds the chunks' gated sums in pixel order (float64): the same
 * scores and sums whether the chunks ran in this thread or on several workers at once. With
 * `grid`, chunks lie on a fixed grid from the first pixel (see {@link ChunkRunRequest.grid}).
 *
 * @param key - the graph's key in the runner (e.g. input type + wavelength vector)
 * @param build - builds the graph on the key's first use
 * @throws {@link OnnxRuntimeError} (phase `create` or `run`) naming the graph
 * @example
 * ```ts
 * import { selectBands } from '../../model/band-selection.js';
 * import { buildDeepSvddGraph } from './deep-svdd-graph.js';
 * import { PoolChunkRunner } from './pool/pool-chunk-runner.js';
 * const runner = new PoolChunkRunner({ workers: 2 });
 * const kept = selectBands(frame.wavelengths, { minNm: 700 });
 * const graph = () => buildDeepSvddGraph(params, { inChannels: frame.bands, kept });
 * const input: DeepSvddRunInput = { data: frame.data, inputType: 'float32', pixels: frame.height * frame.width,
 *   bands: frame.bands, center: params.center, tau: bundle.calibration.threshold };
 * const { scores, zsumNormal, nNormal } = await runDeepSvdd(runner, 'float32|61', graph, input);
 * ```
 */
export async function runDeepSvdd(
  runner: ChunkRunner,
  key: string,
  build: () => RunnableGraph,
  input: DeepSvddRunInput,
  options: { readonly chunkPixels?: number; readonly prep?: ChunkPrep; readonly grid?: boolean } = {},
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
    ...(options.grid === undefined ? {} : { grid: options.grid }),
  });
  const chunks = chunkOutputs.map(([sum, count]) => chunkSums(sum, count, center.length, `graph ${key}`));
  return { scores, chunks, ...sumChunks(chunks, center.length) };
}
