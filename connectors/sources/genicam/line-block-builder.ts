/**
 * Camera lines into blocks: each line's payload is unpacked into 16-bit counts (a buffer reused
 * line after line), written as the next row of the block being filled (a buffer lent from a
 * pool), converted to reflectance when references are given, and published as progress
 * ({@link RowsReady}) so that a scorer can score rows ahead; the line that fills the block
 * returns it as a {@link CubeFrame}.
 */
import {
  bandIndexWavelengths,
  type CubeFrame,
  InvalidFrameError,
  type WavelengthUnits,
} from '../../../src/core/frame.js';
import { FrameBufferPool } from '../../../src/core/frame-buffer-pool.js';
import type { ReflectanceGains } from '../../../src/core/reflectance.js';
import type { RowsReady } from '../../../src/core/rows-ready.js';
import {
  CameraGeometryError,
  type LineGeometry,
  type LineLayout,
  lineGeometry,
  writeLineRow,
} from './line-layout.js';
import type { OpenedCamera, RawLine } from './line-stream.js';
import { payloadBytes, requirePixelFormat, unpackPixels } from './pixel-formats.js';

/** Centre wavelengths of the bands and their units. */
export interface BandWavelengths {
  readonly values: Float32Array;
  readonly units: WavelengthUnits;
}

/** Options of {@link LineBlockBuilder}. */
export interface LineBlockBuilderOptions {
  /** Camera id of the blocks. */
  readonly cameraId: string;
  /** Which camera axis carries the bands. */
  readonly layout: LineLayout;
  /** Lines per block. */
  readonly blockRows: number;
  /** The bands' wavelengths (their count is checked against the camera's); absent: band indices. */
  readonly wavelengths?: BandWavelengths;
  /** Convert each line to reflectance with these (their width and bands are checked at open). */
  readonly gains?: ReflectanceGains;
  /** Where block buffers come from; the emitted block's `release` hands its buffer back. */
  readonly pool: FrameBufferPool;
  /** Progress of the block being filled, after each of its lines but the last. */
  readonly onRows?: (rows: RowsReady) => void;
}

/** The camera image as opened: what every line must match. */
interface OpenGeometry extends LineGeometry {
  readonly cameraWidth: number;
  readonly cameraHeight: number;
  readonly pixelFormat: string;
  readonly wavelengths: Float32Array;
  readonly units: WavelengthUnits;
}

/**
 * Builds blocks of `blockRows` lines from the lines of one camera: `frameId` counts blocks from
 * 0 (on across reconnects), `rowOffset` is 0 and `totalRows` is `blockRows` (each block is a
 * whole frame), `capturedAt` is the block's last line's (a block is captured when its last line
 * is, as the simulated camera stamps it), `radiometry` is `reflectance` with gains, else
 * `counts`, and `finite` is true (counts are integers and gains finite, so validation skips its scan).
 * Lines lost on the way are simply not there: a block holds the next `blockRows` lines
 * that arrived.
 *
 * @example
 * ```ts
 * import { FrameBufferPool } from '../../../src/core/frame-buffer-pool.js';
 * import type { RawLine } from './line-stream.js';
 * const builder = new LineBlockBuilder({ cameraId: 'line1', layout: 'bands-rows', blockRows: 64, pool: new FrameBufferPool() });
 * builder.open({ width: 1024, height: 224, pixelFormat: 'Mono16' });
 * declare const line: RawLine; // from openLineStream's onLine
 * const block = builder.add(line); // a CubeFrame every 64th line, else undefined
 * ```
 */
export class LineBlockBuilder {
  readonly #options: LineBlockBuilderOptions;
  #geometry: OpenGeometry | undefined;
  #counts = new Uint16Array(0);
  #block: { readonly data: Float32Array; readonly release: () => void } | undefined;
  #filled = 0;
  #blocks = 0;

  /** @param options - see {@link LineBlockBuilderOptions} */
  constructor(options: LineBlockBuilderOptions) {
    this.#options = options;
  }

  /** Blocks returned so far. */
  get blocks(): number {
    return this.#blocks;
  }

  /** Lines in the block being filled. */
  get pendingLines(): number {
    return this.#filled;
  }

  /**
   * Takes the geometry of the camera's image as read back at open (and at each reconnect): the
   * line's width and bands under the layout, checked against the wavelengths and the
   * references. A block being filled at a different geometry is discarded.
   *
   * @throws {@link CameraGeometryError} naming both sides; `UnsupportedPixelFormatError` for a
   *   pixel format this source cannot read
   */
  open(camera: Pick<OpenedCamera, 'width' | 'height' | 'pixelFormat'>): LineGeometry {
    const { layout, wavelengths, gains } = this.#options;
    requirePixelFormat(camera.pixelFormat);
    const geometry = lineGeometry(layout, camera.width, camera.height, wavelengths?.values.length);
    if (gains !== undefined && (gains.width !== geometry.width || gains.bands !== geometry.bands)) {
      throw new CameraGeometryError(
        `camera lines are ${geometry.width} pixels x ${geometry.bands} bands (Width x Height ` +
          `${camera.width} x ${camera.height}, lineLayout ${layout}), but the references (source.calibration) ` +
          `are ${gains.width} pixels x ${gains.bands} bands: capture them again at these settings`,
      );
    }
    const previous = this.#geometry;
    if (previous !== undefined && (previous.width !== geometry.width || previous.bands !== geometry.bands))
      this.discard();
    this.#geometry = {
      ...geometry,
      cameraWidth: camera.width,
      cameraHeight: camera.height,
      pixelFormat: camera.pixelFormat,
      wavelengths: wavelengths?.values ?? bandIndexWavelengths(geometry.bands),
      units: wavelengths?.units ?? 'index',
    };
    if (this.#counts.length !== geometry.width * geometry.bands)
      this.#counts = new Uint16Array(geometry.width * geometry.bands);
    return geometry;
  }

  /**
   * Adds one line as the next row of the block being filled.
   *
   * @returns the block when this line completes it, else undefined
   * @throws {@link InvalidFrameError} (nothing written) for a line whose image or payload size is
   *   not the opened camera's: reason `shape`, or `size` from `unpackPixels`
   */
  add(
    line: Pick<RawLine, 'bytes' | 'width' | 'height' | 'pixelFormat' | 'capturedAt'>,
  ): CubeFrame | undefined {
    const g = this.#geometry;
    if (g === undefined)
      throw new InvalidFrameError('metadata', 'line', 'before open', 'the camera is not open');
    if (
      line.width !== g.cameraWidth ||
      line.height !== g.cameraHeight ||
      line.pixelFormat !== g.pixelFormat
    ) {
      throw new InvalidFrameError(
        'shape',
        'line',
        `${line.width} x ${line.height} ${line.pixelFormat}`,
        `the camera was opened at ${g.cameraWidth} x ${g.cameraHeight} ${g.pixelFormat}`,
      );
    }
    const { blockRows, pool, gains, layout, cameraId } = this.#options;
    unpackPixels(line.pixelFormat, line.bytes, g.width * g.bands, this.#counts);
    this.#block ??= pool.lend(blockRows * g.width * g.bands);
    const block = this.#block;
    writeLineRow(this.#counts, layout, g.width, g.bands, block.data, this.#filled, gains);
    this.#filled++;
    if (this.#filled < blockRows) {
      this.#options.onRows?.({
        cameraId,
        height: blockRows,
        width: g.width,
        bands: g.bands,
        wavelengths: g.wavelengths,
        wavelengthUnits: g.units,
        data: block.data,
        rows: this.#filled,
      });
      return undefined;
    }
    this.#block = undefined;
    this.#filled = 0;
    const frame: CubeFrame = {
      cameraId,
      frameId: this.#blocks++,
      rowOffset: 0,
      totalRows: blockRows,
      capturedAt: line.capturedAt,
      timings: {},
      height: blockRows,
      width: g.width,
      bands: g.bands,
      wavelengths: g.wavelengths,
      wavelengthUnits: g.units,
      data: block.data,
      radiometry: gains === undefined ? 'counts' : 'reflectance',
      finite: true,
      release: block.release,
    };
    return frame;
  }

  /** Hands the block being filled back to the pool (its lines are lost); the next line starts a new one. */
  discard(): void {
    this.#block?.release();
    this.#block = undefined;
    this.#filled = 0;
  }
}

/**
 * Block buffers {@link prefaultBlocks} makes resident: as many as the service holds at once in
 * steady state (measured with the genicam bench: 6 allocated; one being filled, up to the
 * pipeline's backpressure capacity of 4 waiting, one being scored and decided).
 */
export const PREFAULTED_BLOCKS = 6;

/**
 * Most memory {@link prefaultBlocks} makes resident (bytes): fewer blocks when they are large
 * (4 of 64 x 1024 x 224), so that a start never claims gigabytes for blocks the pipeline may
 * never hold at once; at least one block.
 */
export const PREFAULT_MAX_BYTES = 256 * 2 ** 20;

/**
 * Allocates and writes {@link PREFAULTED_BLOCKS} block buffers of the configured image in `pool`
 * (fewer when they would exceed {@link PREFAULT_MAX_BYTES}) before the camera opens, so that its
 * first blocks are not filled in fresh memory: each page's first write faults, and a new
 * 32 x 1024 x 224 block took 2.9 ms a line to fill (the line period at 330 lines/s; the ring
 * overflowed for the first six blocks) instead of 0.34 ms.
 * Nothing when Width or Height is not configured (the size is known only once the camera is
 * open); buffers of a size the camera then does not send give way in the pool to the real ones.
 *
 * @returns the buffers added
 * @example
 * ```ts
 * import { FrameBufferPool } from '../../../src/core/frame-buffer-pool.js';
 * prefaultBlocks(new FrameBufferPool(), { width: 1024, height: 224 }, { layout: 'bands-rows', blockRows: 32 });
 * ```
 */
export function prefaultBlocks(
  pool: FrameBufferPool,
  camera: { readonly width?: number; readonly height?: number },
  options: { readonly layout: LineLayout; readonly blockRows: number },
): number {
  if (camera.width === undefined || camera.height === undefined) return 0;
  const { width, bands } = lineGeometry(options.layout, camera.width, camera.height);
  const length = options.blockRows * width * bands;
  return pool.prefill(length, prefaultCount(length * Float32Array.BYTES_PER_ELEMENT));
}

/**
 * Blocks of `blockBytes` that {@link prefaultBlocks} makes resident: {@link PREFAULTED_BLOCKS}, fewer
 * within {@link PREFAULT_MAX_BYTES}, at least one.
 *
 * @example
 * ```ts
 * prefaultCount(32 * 1024 * 224 * 4); // 6
 * prefaultCount(64 * 1024 * 224 * 4); // 4
 * ```
 */
export function prefaultCount(blockBytes: number): number {
  return Math.max(1, Math.min(PREFAULTED_BLOCKS, Math.floor(PREFAULT_MAX_BYTES / blockBytes)));
}

/** Lines {@link warmLinePath} runs by default: past the point where V8 has optimised the line path (about 250 lines here). */
export const LINE_PATH_WARMUP_LINES = 400;
/** Lines between two yields to the event loop during the warm-up. */
const WARMUP_SLICE_LINES = 16;

/**
 * Runs the line path (unpack, row copy, reflectance) on synthetic zero lines of the camera's
 * configured image before the camera opens, so that its first real lines do not meet
 * unoptimised code: unwarmed, a 1024 x 224 Mono16 line took about 4 ms for its first 30 lines
 * and 1 ms until about line 200 (0.3 ms after), and at 330 lines/s the ring overflowed for the
 * first half second. Yields to the event loop every {@link WARMUP_SLICE_LINES} lines; uses its
 * own buffers (nothing is published). Image fields missing from the configuration fall back to
 * 1024 x 224 Mono16 (the JIT cares about the code path, not the size).
 *
 * @param camera - the configured Width, Height and PixelFormat (features), any of them absent
 * @param options - the layout, and the references when the source converts to reflectance
 *   (used only when they fit the warm-up geometry)
 * @example
 * ```ts
 * await warmLinePath({ width: 1024, height: 224, pixelFormat: 'Mono16' }, { layout: 'bands-rows' });
 * ```
 */
export async function warmLinePath(
  camera: { readonly width?: number; readonly height?: number; readonly pixelFormat?: string },
  options: { readonly layout: LineLayout; readonly gains?: ReflectanceGains; readonly lines?: number },
): Promise<void> {
  const image = {
    width: camera.width ?? 1024,
    height: camera.height ?? 224,
    pixelFormat: camera.pixelFormat ?? 'Mono16',
  };
  const geometry = lineGeometry(options.layout, image.width, image.height);
  const gains = options.gains;
  const fits = gains !== undefined && gains.width === geometry.width && gains.bands === geometry.bands;
  const builder = new LineBlockBuilder({
    cameraId: 'warm-up',
    layout: options.layout,
    blockRows: 8,
    pool: new FrameBufferPool(),
    onRows: () => undefined,
    ...(fits ? { gains } : {}),
  });
  builder.open(image);
  const line = {
    ...image,
    bytes: new Uint8Array(payloadBytes(image.pixelFormat, geometry.width * geometry.bands)),
    capturedAt: 0,
  };
  const total = options.lines ?? LINE_PATH_WARMUP_LINES;
  for (let i = 0; i < total; i++) {
    builder.add(line)?.release?.();
    if ((i + 1) % WARMUP_SLICE_LINES === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  builder.discard();
}
