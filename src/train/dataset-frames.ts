import type { CubeFrame } from '../core/frame.js';
import { type EnviReader, openEnvi } from '../io/envi/index.js';
import { DatasetError, type DatasetItem } from './dataset-item.js';

/** Default rows per block when streaming cubes from disk. */
export const DEFAULT_BLOCK_ROWS = 64;

/** Options of {@link streamDatasetFrames}. */
export interface StreamFramesOptions {
  /** Rows per emitted block (default 64): memory stays bounded by one block per cube. */
  readonly blockRows?: number;
  /** Camera id of the frames (default `dataset`). */
  readonly cameraId?: string;
  /** Skip the mask (frames without labels). */
  readonly withoutLabels?: boolean;
}

function labelsOf(values: Float32Array, item: DatasetItem, rowOffset: number, samples: number): Uint8Array {
  const labels = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!(Number.isInteger(v) && v >= 0 && v <= 255)) {
      const row = rowOffset + Math.floor(i / samples);
      throw new DatasetError(
        item.mask ?? item.name,
        `pixel (row ${row}, col ${i % samples}) = ${v} is not a class id in 0..255`,
      );
    }
    labels[i] = v;
  }
  return labels;
}

/**
 * Streams the cubes of a dataset as frames, block by block, straight from disk: never more
 * than one block per cube is in memory. Frame `i` of `items` has `frameId` i; labels come from
 * the mask when there is one. Restartable: every call opens the files afresh.
 *
 * @throws {@link DatasetError} for a mask value outside 0..255; ENVI errors for unreadable files
 * @example
 * ```ts
 * import { RunningStats } from '../model/running-stats.js';
 * const stats = new RunningStats();
 * for await (const block of streamDatasetFrames(dataset.splits.train, { blockRows: 64 })) stats.add(block.data, block.bands);
 * ```
 */
export async function* streamDatasetFrames(
  items: readonly DatasetItem[],
  options: StreamFramesOptions = {},
): AsyncGenerator<CubeFrame, void, undefined> {
  const blockRows = options.blockRows ?? DEFAULT_BLOCK_ROWS;
  const cameraId = options.cameraId ?? 'dataset';
  for (let frameId = 0; frameId < items.length; frameId++) {
    const item = items[frameId] as DatasetItem;
    const cube = await openEnvi(item.cube);
    let mask: EnviReader | undefined;
    try {
      if (item.mask !== undefined && options.withoutLabels !== true) mask = await openEnvi(item.mask);
      const { lines, samples, bands } = cube.header;
      for await (const block of cube.rowBlocks(blockRows)) {
        const labels =
          mask === undefined
            ? undefined
            : labelsOf(await mask.readRows(block.rowOffset, block.height), item, block.rowOffset, samples);
        yield {
          cameraId,
          frameId,
          rowOffset: block.rowOffset,
          totalRows: lines,
          capturedAt: 0,
          timings: {},
          height: block.height,
          width: samples,
          bands,
          wavelengths: cube.wavelengths,
          wavelengthUnits: cube.wavelengthUnits,
          data: block.data,
          ...(labels === undefined ? {} : { labels }),
          ...(cube.header.radiometry === undefined ? {} : { radiometry: cube.header.radiometry }),
        };
      }
    } finally {
      await mask?.close();
      await cube.close();
    }
  }
}
