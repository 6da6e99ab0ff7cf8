import { type FileHandle, open } from 'node:fs/promises';
import { bandIndexWavelengths, type CubeFrame, type WavelengthUnits } from '../../core/frame.js';
import { checkEnviDataSize, findEnviDataFile, readEnviHeader } from './data-file.js';
import { enviDtype } from './data-types.js';
import { EnviDataError } from './errors.js';
import type { EnviHeader } from './header.js';
import { decodeBlock } from './interleave.js';

/** A block of rows read from an ENVI file, BIP float32 `[height * samples * bands]`. */
export interface EnviRowBlock {
  /** Index of the block's first line. */
  readonly rowOffset: number;
  /** Lines in the block. */
  readonly height: number;
  /** Pixel-major float32 values. */
  readonly data: Float32Array;
}

/**
 * An open ENVI cube: reads rows on demand with positional reads, never the whole file.
 * Values are the raw numbers converted to float32; neither `reflectanceScaleFactor` nor
 * `dataIgnoreValue` is applied (both are in `header`).
 */
export interface EnviReader {
  /** The parsed header. */
  readonly header: EnviHeader;
  /** The data file found next to the header. */
  readonly dataPath: string;
  /** Band centres in nm, or band indices when `wavelengthUnits` is `index`. */
  readonly wavelengths: Float32Array;
  /** Units of `wavelengths`. */
  readonly wavelengthUnits: WavelengthUnits;
  /**
   * Reads lines `[start, start + count)` as BIP float32 `[count * samples * bands]`: into `into`
   * when given (it must hold exactly that many values; it is returned), else a new array.
   */
  readRows(start: number, count: number, into?: Float32Array): Promise<Float32Array>;
  /** Reads the cube front to back in blocks of `rows` lines (the last may be shorter). */
  rowBlocks(rows: number): AsyncIterable<EnviRowBlock>;
  /** Closes the data file; safe to call twice. */
  close(): Promise<void>;
}

async function readFully(
  handle: FileHandle,
  target: Uint8Array,
  position: number,
  file: string,
): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const { bytesRead } = await handle.read(target, done, target.byteLength - done, position + done);
    if (bytesRead === 0) {
      throw new EnviDataError(
        'truncated',
        file,
        `ENVI data file ${file} is truncated: reading ${target.byteLength} bytes at ${position} ended after ${done}`,
      );
    }
    done += bytesRead;
  }
}

function checkRange(header: EnviHeader, file: string, start: number, count: number): void {
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(count) ||
    start < 0 ||
    count <= 0 ||
    start + count > header.lines
  ) {
    throw new EnviDataError(
      'bad_range',
      file,
      `ENVI ${file}: rows ${start}+${count} must lie within its ${header.lines} lines`,
    );
  }
}

/**
 * Opens an ENVI cube: parses the header, finds the data file and checks its size before any
 * data is read.
 *
 * @throws {@link EnviHeaderError} for a bad header; {@link EnviDataError} when the data file is
 *   missing, truncated or too large
 * @example
 * ```ts
 * const reader = await openEnvi('scene/cube.hdr');
 * try {
 *   for await (const block of reader.rowBlocks(64)) console.log(block.rowOffset, block.data.length);
 * } finally {
 *   await reader.close();
 * }
 * ```
 */
export async function openEnvi(hdrPath: string): Promise<EnviReader> {
  const header = await readEnviHeader(hdrPath);
  const dataPath = await findEnviDataFile(hdrPath);
  const handle = await open(dataPath, 'r');
  let scratch: Uint8Array<ArrayBuffer> | undefined;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= handle.close();
    scratch = undefined;
    return closed;
  };
  try {
    checkEnviDataSize(header, dataPath, (await handle.stat()).size);
  } catch (error) {
    await close();
    throw error;
  }
  const dtype = enviDtype(header.dataType);
  const littleEndian = header.byteOrder === 0;
  const { samples, bands, lines, interleave, headerOffset } = header;
  const lineBytes = samples * bands * dtype.bytes;

  // float32 BIP is returned as a view of the bytes read; every other layout is decoded into a
  // new array, so its raw bytes can go through one reused scratch buffer.
  const zeroCopy = interleave === 'bip' && dtype.code === 4;
  let scratchBusy = false;

  async function readRows(start: number, count: number, into?: Float32Array): Promise<Float32Array> {
    checkRange(header, dataPath, start, count);
    if (into !== undefined && into.length !== count * samples * bands) {
      throw new RangeError(
        `readRows: into holds ${into.length} values, ${count} lines of ${samples}x${bands} need ${count * samples * bands}`,
      );
    }
    const size = count * lineBytes;
    const reuse = (into !== undefined || !zeroCopy) && !scratchBusy;
    let bytes: Uint8Array<ArrayBuffer>;
    if (reuse) {
      if (scratch === undefined || scratch.byteLength < size) scratch = new Uint8Array(size);
      bytes = scratch.subarray(0, size);
      scratchBusy = true;
    } else {
      bytes = new Uint8Array(size);
    }
    try {
      if (interleave === 'bsq') {
        const bandBytes = count * samples * dtype.bytes;
        for (let b = 0; b < bands; b++) {
          const position = headerOffset + (b * lines + start) * samples * dtype.bytes;
          await readFully(handle, bytes.subarray(b * bandBytes, (b + 1) * bandBytes), position, dataPath);
        }
      } else {
        await readFully(handle, bytes, headerOffset + start * lineBytes, dataPath);
      }
      return decodeBlock(bytes, dtype, littleEndian, { interleave, rows: count, samples, bands }, into);
    } finally {
      if (reuse) scratchBusy = false;
    }
  }

  async function* rowBlocks(rows: number): AsyncGenerator<EnviRowBlock> {
    if (!Number.isSafeInteger(rows) || rows <= 0) {
      throw new EnviDataError(
        'bad_range',
        dataPath,
        `ENVI ${dataPath}: block rows must be a positive integer, got ${rows}`,
      );
    }
    for (let start = 0; start < lines; start += rows) {
      const height = Math.min(rows, lines - start);
      yield { rowOffset: start, height, data: await readRows(start, height) };
    }
  }

  return {
    header,
    dataPath,
    wavelengths:
      header.wavelengths === undefined ? bandIndexWavelengths(bands) : Float32Array.from(header.wavelengths),
    wavelengthUnits: header.wavelengths === undefined ? 'index' : 'nm',
    readRows,
    rowBlocks,
    close,
  };
}

/** A whole ENVI cube in memory, BIP float32. */
export interface EnviCube {
  readonly header: EnviHeader;
  readonly dataPath: string;
  readonly lines: number;
  readonly samples: number;
  readonly bands: number;
  readonly wavelengths: Float32Array;
  readonly wavelengthUnits: WavelengthUnits;
  /** `[lines * samples * bands]`, pixel-major. */
  readonly data: Float32Array;
}

/**
 * Reads a whole cube into memory (convenience for small scenes; stream big ones with
 * {@link openEnvi}).
 *
 * @example
 * ```ts
 * const { data, lines, samples, bands } = await readEnviCube('/data/scenes/abu-beach-1/cube.hdr');
 * ```
 */
export async function readEnviCube(hdrPath: string): Promise<EnviCube> {
  const reader = await openEnvi(hdrPath);
  try {
    const { lines, samples, bands } = reader.header;
    const data = await reader.readRows(0, lines);
    return {
      header: reader.header,
      dataPath: reader.dataPath,
      lines,
      samples,
      bands,
      wavelengths: reader.wavelengths,
      wavelengthUnits: reader.wavelengthUnits,
      data,
    };
  } finally {
    await reader.close();
  }
}

/**
 * Reads a one-band ENVI mask as class ids per pixel (`lines * samples`, row-major).
 *
 * @throws {@link EnviDataError} `bad_mask` when the file has more than one band or holds a value
 *   that is not an integer in 0..255
 */
export async function readEnviMask(hdrPath: string): Promise<Uint8Array> {
  const cube = await readEnviCube(hdrPath);
  if (cube.bands !== 1) {
    throw new EnviDataError('bad_mask', hdrPath, `ENVI mask ${hdrPath} must have 1 band, has ${cube.bands}`);
  }
  const mask = new Uint8Array(cube.data.length);
  for (let i = 0; i < cube.data.length; i++) {
    const v = cube.data[i] as number;
    if (!Number.isInteger(v) || v < 0 || v > 255) {
      throw new EnviDataError(
        'bad_mask',
        hdrPath,
        `ENVI mask ${hdrPath}: pixel ${i} (row ${Math.floor(i / cube.samples)}, col ${i % cube.samples}) = ${v} is not a class id in 0..255`,
      );
    }
    mask[i] = v;
  }
  return mask;
}

/**
 * A whole in-memory cube as one frame (`frameId` 0, `capturedAt` 0 unless given): what the
 * training and evaluation code scores a cube as. The header's `cubestream radiometry` becomes
 * the frame's `radiometry`.
 *
 * @example
 * ```ts
 * const frame = enviCubeFrame(await readEnviCube('scene/cube.hdr'), { cameraId: 'scene' });
 * ```
 */
export function enviCubeFrame(
  cube: EnviCube,
  options: { cameraId: string; frameId?: number; capturedAt?: number; labels?: Uint8Array },
): CubeFrame {
  return {
    cameraId: options.cameraId,
    frameId: options.frameId ?? 0,
    rowOffset: 0,
    totalRows: cube.lines,
    capturedAt: options.capturedAt ?? 0,
    timings: {},
    height: cube.lines,
    width: cube.samples,
    bands: cube.bands,
    wavelengths: cube.wavelengths,
    wavelengthUnits: cube.wavelengthUnits,
    data: cube.data,
    ...(options.labels === undefined ? {} : { labels: options.labels }),
    ...(cube.header.radiometry === undefined ? {} : { radiometry: cube.header.radiometry }),
  };
}
