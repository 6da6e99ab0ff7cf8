import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { enviDtype } from './data-types.js';
import { EnviDataError, EnviHeaderError } from './errors.js';
import { type EnviHeader, parseEnviHeader } from './header.js';

const DATA_EXTENSIONS = ['.img', '.raw', '.dat', '.bsq', '.bil', '.bip'];

/** Path of `hdrPath` without its `.hdr` extension (any case); the path itself when it has none. */
export function enviBasePath(hdrPath: string): string {
  return /\.hdr$/i.test(hdrPath) ? hdrPath.slice(0, -4) : hdrPath;
}

/**
 * Data file names tried next to a header, in order: `.img`, `.raw`, `.dat`, `.bsq`, `.bil`,
 * `.bip`, the same in upper case, then the base name alone (`cube.img.hdr` -> `cube.img`).
 */
export function enviDataCandidates(hdrPath: string): string[] {
  const base = enviBasePath(hdrPath);
  return [
    ...DATA_EXTENSIONS.map((ext) => base + ext),
    ...DATA_EXTENSIONS.map((ext) => base + ext.toUpperCase()),
    base,
  ];
}

/**
 * Finds the data file that belongs to a header.
 *
 * @throws {@link EnviDataError} `missing_data_file`, listing every name tried
 * @example
 * ```ts
 * await findEnviDataFile('scene/cube.hdr'); // 'scene/cube.img'
 * ```
 */
export async function findEnviDataFile(hdrPath: string): Promise<string> {
  const candidates = enviDataCandidates(hdrPath);
  for (const candidate of candidates) {
    if (candidate === hdrPath) continue;
    try {
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not there: try the next name
    }
  }
  throw new EnviDataError(
    'missing_data_file',
    hdrPath,
    `ENVI header ${hdrPath}: no data file found next to it (tried ${candidates
      .filter((c) => c !== hdrPath)
      .map((c) => basename(c))
      .join(', ')})`,
  );
}

/** Bytes a data file must hold: `headerOffset + lines * samples * bands * bytesPerElement`. */
export function expectedEnviDataBytes(header: EnviHeader): number {
  return (
    header.headerOffset + header.lines * header.samples * header.bands * enviDtype(header.dataType).bytes
  );
}

/**
 * Checks a data file's size against its header before anything is read.
 *
 * @throws {@link EnviDataError} `truncated` when shorter, `oversized` when longer
 */
export function checkEnviDataSize(header: EnviHeader, dataPath: string, actualBytes: number): void {
  const expected = expectedEnviDataBytes(header);
  if (actualBytes === expected) return;
  const formula = `header offset ${header.headerOffset} + ${header.lines} lines x ${header.samples} samples x ${header.bands} bands x ${enviDtype(header.dataType).bytes} bytes`;
  if (actualBytes < expected) {
    throw new EnviDataError(
      'truncated',
      dataPath,
      `ENVI data file ${dataPath} is truncated: expected ${expected} bytes (${formula}), found ${actualBytes}`,
    );
  }
  throw new EnviDataError(
    'oversized',
    dataPath,
    `ENVI data file ${dataPath} is larger than its header says: expected ${expected} bytes (${formula}), found ${actualBytes}`,
  );
}

/**
 * Largest header file read (bytes): far above any real header (a few kB; ~50 kB with thousands
 * of bands), small enough that a data file misnamed `.hdr` is refused before it is read.
 */
export const MAX_ENVI_HEADER_BYTES = 4 * 1024 * 1024;

/**
 * Reads and parses a header file.
 *
 * @throws {@link EnviHeaderError} when the file cannot be read, is larger than
 *   {@link MAX_ENVI_HEADER_BYTES}, or cannot be parsed
 */
export async function readEnviHeader(hdrPath: string): Promise<EnviHeader> {
  let text: string;
  try {
    const { size } = await stat(hdrPath);
    if (size > MAX_ENVI_HEADER_BYTES) {
      throw new EnviHeaderError(
        hdrPath,
        `is ${size} bytes, more than the ${MAX_ENVI_HEADER_BYTES} bytes a header may have (is it a data file?)`,
      );
    }
    text = await readFile(hdrPath, 'utf8');
  } catch (cause) {
    if (cause instanceof EnviHeaderError) throw cause;
    throw new EnviHeaderError(hdrPath, `cannot be read (${(cause as Error).message})`, undefined, { cause });
  }
  return parseEnviHeader(text, hdrPath);
}
