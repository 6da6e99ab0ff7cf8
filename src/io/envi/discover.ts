import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { enviBasePath } from './data-file.js';
import { EnviDataError } from './errors.js';

/** Whether a file name is an ENVI mask header: `mask.hdr` or `<anything>_mask.hdr` (any case). */
export function isEnviMaskHeader(path: string): boolean {
  return /(^|_)mask\.hdr$/i.test(basename(path));
}

async function walk(dir: string, into: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, into);
    else if (entry.isFile() && /\.hdr$/i.test(entry.name) && !isEnviMaskHeader(entry.name)) into.push(full);
  }
}

/**
 * The cube headers at `path`: the path itself when it is a file, else every `*.hdr` below the
 * folder (recursively, sorted by path) except mask headers (`mask.hdr`, `*_mask.hdr`).
 *
 * @throws {@link EnviDataError} `missing_data_file` when the path does not exist or holds no cube
 * @example
 * ```ts
 * await listEnviCubes('/data/scenes'); // ['/data/scenes/abu-airport-1/cube.hdr', ...]
 * ```
 */
export async function listEnviCubes(path: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new EnviDataError('missing_data_file', path, `ENVI path ${path} does not exist`, { cause });
  }
  if (!info.isDirectory()) return [path];
  const found: string[] = [];
  await walk(path, found);
  if (found.length === 0) {
    throw new EnviDataError(
      'missing_data_file',
      path,
      `ENVI folder ${path} holds no cube header (*.hdr other than masks)`,
    );
  }
  return found.sort();
}

/**
 * The mask header that goes with a cube, if any: `<base>_mask.hdr` next to it, else `mask.hdr`
 * in its folder (the per-scene layout of the ABU scene collection).
 */
export async function findEnviMask(hdrPath: string): Promise<string | undefined> {
  for (const candidate of [`${enviBasePath(hdrPath)}_mask.hdr`, join(dirname(hdrPath), 'mask.hdr')]) {
    try {
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}
