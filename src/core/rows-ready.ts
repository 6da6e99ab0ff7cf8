import type { WavelengthUnits } from './frame.js';

/**
 * Progress of a block a line-scan source is still capturing: rows `0 .. rows-1` of `data` are
 * final. A source that fills each block's buffer line by line publishes one of these as lines
 * arrive, then emits the finished block as a frame whose `data` is this same array (same
 * object). A scorer given the stream (`fusedDeepSvddScore`'s `earlyRows`) scores rows while
 * the rest of the block is still being scanned, so the block's decision waits only for its
 * last lines, whatever the block height.
 *
 * `rows` only grows for one buffer; a source that reuses a buffer for a later block starts
 * again from a smaller `rows`, which tells the scorer to forget what it did with it.
 *
 * @example
 * ```ts
 * import { Subject } from 'rxjs';
 * const rows$ = new Subject<RowsReady>();
 * const block = new Float32Array(64 * 1024 * 224); // the block's buffer, filled line by line
 * const wavelengths = Float32Array.from({ length: 224 }, (_, i) => 400 + 2.7 * i);
 * rows$.next({ cameraId: 'fx10', height: 64, width: 1024, bands: 224, wavelengths, wavelengthUnits: 'nm', data: block, rows: 8 });
 * ```
 */
export interface RowsReady {
  /** Camera the block comes from (as the frame's `cameraId`). */
  readonly cameraId: string;
  /** Rows of the whole block (as the frame's `height`). */
  readonly height: number;
  /** Pixels per row. */
  readonly width: number;
  /** Spectral channels per pixel. */
  readonly bands: number;
  /** Centre wavelength of each band (as the frame's). */
  readonly wavelengths: Float32Array;
  readonly wavelengthUnits: WavelengthUnits;
  /** The whole block's buffer, `[height * width, bands]` pixel-major, filled row by row. */
  readonly data: Float32Array | Uint16Array;
  /** Rows captured so far (final from now on), 0..height. */
  readonly rows: number;
}
