import { type FileHandle, open, rm, writeFile } from 'node:fs/promises';
import { isRadiometry, type Radiometry, type WavelengthUnits } from '../../core/frame.js';
import { enviBasePath } from './data-file.js';
import { enviDtype } from './data-types.js';
import { EnviWriteError } from './errors.js';
import { type EnviHeader, type EnviInterleave, formatEnviHeader } from './header.js';
import { encodeBlock } from './interleave.js';

/** Data types the writer produces: 1 u8, 2 i16, 4 f32, 12 u16. */
export type EnviWritableType = 1 | 2 | 4 | 12;

/** What to write: geometry, storage and optional metadata. */
export interface EnviWriterSpec {
  samples: number;
  lines: number;
  bands: number;
  /** Integer types round (half away from zero) and clamp to their range; NaN becomes 0. */
  dataType: EnviWritableType;
  interleave: EnviInterleave;
  /** 0 little-endian (default), 1 big-endian. */
  byteOrder?: 0 | 1;
  /** One centre per band; written in nm unless `wavelengthUnits` is `index`. */
  wavelengths?: ArrayLike<number>;
  /** `index` leaves wavelengths out of the header. */
  wavelengthUnits?: WavelengthUnits;
  description?: string;
  bandNames?: readonly string[];
  /** Counts or reflectance, written as `cubestream radiometry = …`; left out when not given. */
  radiometry?: Radiometry;
  /** More header keys, written as given (e.g. `{ 'sensor type': 'sim' }`). */
  extra?: Record<string, string>;
}

/** Streams BIP rows into an ENVI file pair (`<base>.hdr` + `<base>.img`). */
export interface EnviWriter {
  /** The data file being written. */
  readonly dataPath: string;
  /** Lines written so far (counting rows queued by `writeRows`). */
  readonly linesWritten: number;
  /**
   * Appends whole rows, BIP float32 `[rows * samples * bands]`, after those already written.
   * Positional writes, so every interleave (bsq included) streams.
   */
  writeRows(data: Float32Array): Promise<void>;
  /**
   * Finishes: checks that every line was written, then writes the header, with `extra`: header
   * keys known only once the lines are in (e.g. per-line timestamps), added to the spec's `extra`.
   */
  close(extra?: Record<string, string>): Promise<void>;
  /** Gives up: closes and deletes the data file (and no header is written). */
  abort(): Promise<void>;
}

function positiveInt(file: string, field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new EnviWriteError(file, `${field} must be a positive integer, got ${value}`);
  }
  return value;
}

function checkSpec(hdrPath: string, spec: EnviWriterSpec): void {
  if (!/\.hdr$/i.test(hdrPath)) throw new EnviWriteError(hdrPath, 'the header path must end in .hdr');
  positiveInt(hdrPath, 'samples', spec.samples);
  positiveInt(hdrPath, 'lines', spec.lines);
  positiveInt(hdrPath, 'bands', spec.bands);
  if (![1, 2, 4, 12].includes(spec.dataType)) {
    throw new EnviWriteError(hdrPath, `dataType must be 1, 2, 4 or 12, got ${spec.dataType}`);
  }
  if (!['bsq', 'bil', 'bip'].includes(spec.interleave)) {
    throw new EnviWriteError(
      hdrPath,
      `interleave must be bsq, bil or bip, got ${JSON.stringify(spec.interleave)}`,
    );
  }
  if (spec.radiometry !== undefined && !isRadiometry(spec.radiometry)) {
    throw new EnviWriteError(
      hdrPath,
      `radiometry must be counts or reflectance, got ${JSON.stringify(spec.radiometry)}`,
    );
  }
  if (spec.byteOrder !== undefined && spec.byteOrder !== 0 && spec.byteOrder !== 1) {
    throw new EnviWriteError(hdrPath, `byteOrder must be 0 or 1, got ${spec.byteOrder}`);
  }
  if (spec.wavelengths !== undefined && spec.wavelengths.length !== spec.bands) {
    throw new EnviWriteError(
      hdrPath,
      `wavelengths has ${spec.wavelengths.length} values, expected ${spec.bands}`,
    );
  }
  if (spec.bandNames !== undefined && spec.bandNames.length !== spec.bands) {
    throw new EnviWriteError(hdrPath, `bandNames has ${spec.bandNames.length} names, expected ${spec.bands}`);
  }
  // A header lists band names as "{a, b}": a name that is empty or holds a separator would read
  // back as another number of names.
  const unwritable = spec.bandNames?.findIndex((name) => name.trim() === '' || /[,{}\r\n]/.test(name)) ?? -1;
  if (unwritable >= 0) {
    throw new EnviWriteError(
      hdrPath,
      `bandNames[${unwritable}] = ${JSON.stringify(spec.bandNames?.[unwritable])} must be non-empty, without "," "{" "}" or line breaks`,
    );
  }
}

function headerOf(spec: EnviWriterSpec): EnviHeader {
  const header: EnviHeader = {
    samples: spec.samples,
    lines: spec.lines,
    bands: spec.bands,
    dataType: spec.dataType,
    interleave: spec.interleave,
    byteOrder: spec.byteOrder ?? 0,
    headerOffset: 0,
    wavelengthUnits: 'index',
    fields: { ...(spec.extra ?? {}) },
  };
  if (spec.wavelengths !== undefined && spec.wavelengthUnits !== 'index') {
    header.wavelengths = Array.from(spec.wavelengths);
    header.wavelengthUnits = 'nm';
  }
  if (spec.description !== undefined) header.description = spec.description;
  if (spec.bandNames !== undefined) header.bandNames = [...spec.bandNames];
  if (spec.radiometry !== undefined) header.radiometry = spec.radiometry;
  return header;
}

/**
 * Creates an ENVI writer: the data file `<base>.img` is opened (truncated) now, the header
 * `hdrPath` is written by `close()`.
 *
 * @throws {@link EnviWriteError} for a bad spec
 * @example
 * ```ts
 * import { openEnvi } from './reader.js';
 * const reader = await openEnvi('scene/cube.hdr'); // 640 samples x 480 lines x 61 bands
 * const w = await createEnviWriter('/tmp/cube.hdr', { samples: 640, lines: 480, bands: 61, dataType: 12, interleave: 'bil' });
 * for await (const block of reader.rowBlocks(64)) await w.writeRows(block.data);
 * await w.close();
 * ```
 */
export async function createEnviWriter(hdrPath: string, spec: EnviWriterSpec): Promise<EnviWriter> {
  checkSpec(hdrPath, spec);
  const header = headerOf(spec);
  const dtype = enviDtype(spec.dataType);
  const littleEndian = header.byteOrder === 0;
  const { samples, lines, bands, interleave } = header;
  const rowValues = samples * bands;
  const dataPath = `${enviBasePath(hdrPath)}.img`;
  const handle: FileHandle = await open(dataPath, 'w');
  let linesWritten = 0;
  let queue: Promise<void> = Promise.resolve();
  let finished = false;

  async function write(bytes: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position + done);
      done += bytesWritten;
    }
  }

  function writeRows(data: Float32Array): Promise<void> {
    if (finished) return Promise.reject(new EnviWriteError(hdrPath, 'writeRows after close'));
    if (data.length === 0 || data.length % rowValues !== 0) {
      return Promise.reject(
        new EnviWriteError(
          hdrPath,
          `rows must hold a whole number of lines of samples*bands = ${samples}*${bands} = ${rowValues} values, got ${data.length}`,
        ),
      );
    }
    const rows = data.length / rowValues;
    const start = linesWritten;
    if (start + rows > lines) {
      return Promise.reject(
        new EnviWriteError(
          hdrPath,
          `${rows} more rows after ${start} would exceed the ${lines} lines of the file`,
        ),
      );
    }
    linesWritten += rows;
    const bytes = encodeBlock(data, dtype, littleEndian, { interleave, rows, samples, bands });
    const task = async () => {
      if (interleave !== 'bsq') {
        await write(bytes, start * rowValues * dtype.bytes);
        return;
      }
      const bandBytes = rows * samples * dtype.bytes;
      for (let b = 0; b < bands; b++) {
        await write(
          bytes.subarray(b * bandBytes, (b + 1) * bandBytes),
          (b * lines + start) * samples * dtype.bytes,
        );
      }
    };
    queue = queue.then(task);
    return queue;
  }

  async function close(extra?: Record<string, string>): Promise<void> {
    if (finished) return;
    finished = true;
    try {
      await queue;
    } finally {
      await handle.close();
    }
    if (linesWritten !== lines) {
      throw new EnviWriteError(hdrPath, `closed after ${linesWritten} of ${lines} lines; no header written`);
    }
    await writeFile(hdrPath, formatEnviHeader({ ...header, fields: { ...header.fields, ...extra } }));
  }

  async function abort(): Promise<void> {
    if (!finished) {
      finished = true;
      await queue.catch(() => undefined);
      await handle.close();
    }
    await rm(dataPath, { force: true });
  }

  return {
    dataPath,
    get linesWritten() {
      return linesWritten;
    },
    writeRows,
    close,
    abort,
  };
}

/** A whole cube to write: BIP float32 `[lines * samples * bands]`. */
export interface EnviCubeInput {
  lines: number;
  samples: number;
  bands: number;
  data: Float32Array;
  wavelengths?: ArrayLike<number>;
}

/** Storage options of {@link writeEnviCube}: everything of the spec except the geometry. */
export type EnviCubeWriteOptions = Omit<EnviWriterSpec, 'samples' | 'lines' | 'bands' | 'wavelengths'>;

/**
 * Writes a whole in-memory cube as an ENVI pair; resolves to the data file path.
 *
 * @example
 * ```ts
 * const data = new Float32Array(2 * 3 * 4); // BIP: line, sample, band
 * await writeEnviCube('/tmp/c.hdr', { lines: 2, samples: 3, bands: 4, data }, { dataType: 4, interleave: 'bsq' });
 * ```
 */
export async function writeEnviCube(
  hdrPath: string,
  cube: EnviCubeInput,
  options: EnviCubeWriteOptions,
): Promise<string> {
  const expected = cube.lines * cube.samples * cube.bands;
  if (cube.data.length !== expected) {
    throw new EnviWriteError(
      hdrPath,
      `data holds ${cube.data.length} values, expected lines*samples*bands = ${cube.lines}*${cube.samples}*${cube.bands} = ${expected}`,
    );
  }
  const writer = await createEnviWriter(hdrPath, {
    ...options,
    lines: cube.lines,
    samples: cube.samples,
    bands: cube.bands,
    ...(cube.wavelengths === undefined ? {} : { wavelengths: cube.wavelengths }),
  });
  try {
    await writer.writeRows(cube.data);
  } catch (error) {
    await writer.abort();
    throw error;
  }
  await writer.close();
  return writer.dataPath;
}
