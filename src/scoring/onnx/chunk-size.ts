import type { ScoringInput } from './early-row-scorer.js';

/**
 * Largest number of pixels per onnxruntime run. A whole 64,000-pixel block makes a 33 MB hidden
 * activation (128 floats per pixel) that spills out of the caches between the two Gemms;
 * 8,192 pixels keep it at 4 MB. Measured here: 8,192-pixel chunks cut CPU time per block by
 * about a third against one 64,000-pixel run (see bench/README.md).
 */
export const DEFAULT_CHUNK_PIXELS = 8192;

/** Input bytes per chunk that {@link defaultChunkPixels} aims at (2 MiB: the chunk stays cache-sized). */
const CHUNK_INPUT_BYTES = 2 * 1024 * 1024;

/**
 * Pixels per run for spectra of `bands` values of `elementBytes` each: the largest power of two
 * whose input fits {@link CHUNK_INPUT_BYTES}, between 1,024 and {@link DEFAULT_CHUNK_PIXELS}.
 * Measured here: 8,192 for 61-band uint16 XMR blocks, 4,096 for 224-band uint16 FX10 blocks
 * (2 workers: 21-24 ms against 24-28 ms per block with 8,192).
 *
 * @example
 * ```ts
 * defaultChunkPixels(61, 2);  // 8192
 * defaultChunkPixels(224, 2); // 4096
 * ```
 */
export function defaultChunkPixels(bands: number, elementBytes: number): number {
  return powerOfTwoChunk(
    Math.min(CHUNK_INPUT_BYTES / Math.max(1, bands * elementBytes), DEFAULT_CHUNK_PIXELS),
  );
}

/** The largest power of two <= `limit`, but at least 1,024 (a run's overhead shows below). */
function powerOfTwoChunk(limit: number): number {
  let pixels = 1024;
  while (pixels * 2 <= limit) pixels *= 2;
  return pixels;
}

/** Chunks per block that {@link earlyChunkPixels} aims at. */
const EARLY_CHUNKS_PER_BLOCK = 8;

/**
 * Pixels per run when a block's rows are scored as they are captured (`earlyRows`): at most
 * {@link defaultChunkPixels}, but small enough that a block is about
 * {@link EARLY_CHUNKS_PER_BLOCK} chunks (not below 1,024 pixels, where a run's ~0.1 ms overhead
 * starts to show). What is left when the block's last line comes is at most one chunk, so a
 * smaller chunk is a shorter wait.
 *
 * @example
 * ```ts
 * earlyChunkPixels(64 * 256, 61, 4);   // 2048 (the demo camera)
 * earlyChunkPixels(64 * 1024, 224, 2); // 4096 (FX10)
 * ```
 */
export function earlyChunkPixels(blockPixels: number, bands: number, elementBytes: number): number {
  return powerOfTwoChunk(
    Math.min(defaultChunkPixels(bands, elementBytes), blockPixels / EARLY_CHUNKS_PER_BLOCK),
  );
}

/**
 * A fused scorer's chunk for a block: `chunkPixels` when set, else {@link earlyChunkPixels}
 * when the scorer takes early rows, else {@link defaultChunkPixels}.
 *
 * @example
 * ```ts
 * scorerChunkPixels(frame, { early: true }); // 2048 for a 64 x 256 x 61 float32 block
 * ```
 */
export function scorerChunkPixels(
  block: Pick<ScoringInput, 'data' | 'height' | 'width' | 'bands'>,
  options: { readonly chunkPixels?: number | undefined; readonly early: boolean },
): number {
  if (options.chunkPixels !== undefined) return options.chunkPixels;
  const bytes = block.data instanceof Uint16Array ? 2 : 4;
  return options.early
    ? earlyChunkPixels(block.height * block.width, block.bands, bytes)
    : defaultChunkPixels(block.bands, bytes);
}
