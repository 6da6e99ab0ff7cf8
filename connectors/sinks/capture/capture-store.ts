/**
 * The captures on disk and their budget: an index of every capture folder under
 * `<dir>/{normal,review}/<camera>/`, with its size and when it was written, kept under
 * `maxBytes` and `maxAgeMs` by deleting the oldest first. {@link CaptureStore.scan} rebuilds the
 * index from disk, so the budget holds across restarts and notices folders moved away by a
 * reviewer. Not safe for concurrent calls: the capture sink runs them one at a time.
 */
import type { Dirent } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CAPTURE_FOLDERS } from './capture-files.js';

/** Why a capture was deleted: the `reason` label of `cubestream_capture_deleted_total`. */
export type CaptureDeleteReason = 'bytes' | 'age';

/** Every {@link CaptureDeleteReason}. */
export const CAPTURE_DELETE_REASONS: readonly CaptureDeleteReason[] = ['bytes', 'age'];

/** Name of the folder under the root where captures are written before they are moved into place. */
export const CAPTURE_INCOMING = '.incoming';

/** One capture folder in the index. */
export interface StoredCapture {
  /** The capture folder. */
  readonly path: string;
  /** Bytes of its files. */
  readonly bytes: number;
  /** When it was written (epoch ms: the newest file's modification time). */
  readonly writtenAt: number;
}

/** Options of {@link CaptureStore}. */
export interface CaptureStoreOptions {
  /** The capture root. */
  readonly dir: string;
  /** Most bytes of captures kept. */
  readonly maxBytes: number;
  /** Captures written longer ago than this are deleted (ms). */
  readonly maxAgeMs: number;
  /** The clock (epoch ms); default `Date.now`. */
  readonly now?: () => number;
  /** Called for each capture the budget deleted. */
  readonly onDeleted?: (reason: CaptureDeleteReason, capture: StoredCapture) => void;
  /** Called with the bytes of captures on disk whenever they change. */
  readonly onBytes?: (bytes: number) => void;
}

function byAge(a: StoredCapture, b: StoredCapture): number {
  return a.writtenAt - b.writtenAt || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

async function subfolders(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => path.join(dir, e.name))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Size and write time of one capture folder (its files, not below), or undefined when it is gone.
 *
 * @example
 * ```ts
 * const stored = await statCapture('captures/review/cam0/20260101T120000123Z-f000042-r0064');
 * ```
 */
export async function statCapture(folder: string): Promise<StoredCapture | undefined> {
  let entries: Dirent[];
  let folderTime: number;
  try {
    folderTime = (await stat(folder)).mtimeMs;
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let bytes = 0;
  let writtenAt: number | undefined;
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    try {
      const info = await stat(path.join(folder, entry.name));
      bytes += info.size;
      writtenAt = Math.max(writtenAt ?? 0, info.mtimeMs);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return { path: folder, bytes, writtenAt: writtenAt ?? folderTime };
}

/**
 * The index of the captures under a root and their budget.
 *
 * @example
 * ```ts
 * const store = new CaptureStore({ dir: 'captures', maxBytes: 1e9, maxAgeMs: 7 * 24 * 3600e3 });
 * await store.scan(); // what earlier runs left, within the budget again
 * await store.makeRoom(4_000_000); // before writing a 4 MB capture
 * ```
 */
export class CaptureStore {
  readonly #options: CaptureStoreOptions;
  readonly #now: () => number;
  #captures: StoredCapture[] = [];
  #bytes = 0;

  constructor(options: CaptureStoreOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The capture root. */
  get dir(): string {
    return this.#options.dir;
  }

  /** Where captures are written before they are moved into place (emptied by {@link scan}). */
  get incoming(): string {
    return path.join(this.#options.dir, CAPTURE_INCOMING);
  }

  /** Bytes of the captures in the index. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The captures in the index, oldest first. */
  list(): readonly StoredCapture[] {
    return [...this.#captures];
  }

  /**
   * Rebuilds the index from disk (`<dir>/{normal,review}/<camera>/<capture>/`), deletes what an
   * interrupted write left in {@link incoming}, then applies the budget.
   */
  async scan(): Promise<void> {
    await mkdir(this.#options.dir, { recursive: true });
    await rm(this.incoming, { recursive: true, force: true });
    const found: StoredCapture[] = [];
    for (const kind of Object.values(CAPTURE_FOLDERS)) {
      for (const camera of await subfolders(path.join(this.#options.dir, kind))) {
        for (const folder of await subfolders(camera)) {
          const stored = await statCapture(folder);
          if (stored !== undefined) found.push(stored);
        }
      }
    }
    this.#captures = found.sort(byAge);
    this.#setBytes(found.reduce((sum, c) => sum + c.bytes, 0));
    await this.enforce();
  }

  /** Adds a capture folder just written (its size read from disk), then applies the byte budget. */
  async add(folder: string): Promise<StoredCapture | undefined> {
    const stored = await statCapture(folder);
    if (stored === undefined) return undefined;
    const entry: StoredCapture = { ...stored, writtenAt: this.#now() };
    this.#captures.push(entry);
    this.#captures.sort(byAge);
    this.#setBytes(this.#bytes + entry.bytes);
    await this.#evictOver(this.#options.maxBytes);
    return entry;
  }

  /** Deletes captures past the age limit, then the oldest until `bytes` more fit in the budget. */
  async makeRoom(bytes: number): Promise<void> {
    await this.evictExpired();
    await this.#evictOver(this.#options.maxBytes - bytes);
  }

  /** Applies the whole budget: age, then bytes. */
  async enforce(): Promise<void> {
    await this.makeRoom(0);
  }

  /** Deletes the captures written more than `maxAgeMs` ago; resolves to how many. */
  async evictExpired(): Promise<number> {
    const oldest = this.#now() - this.#options.maxAgeMs;
    let deleted = 0;
    while (this.#captures.length > 0 && (this.#captures[0] as StoredCapture).writtenAt < oldest) {
      await this.#delete('age');
      deleted += 1;
    }
    return deleted;
  }

  async #evictOver(limit: number): Promise<void> {
    while (this.#captures.length > 0 && this.#bytes > Math.max(0, limit)) await this.#delete('bytes');
  }

  async #delete(reason: CaptureDeleteReason): Promise<void> {
    const capture = this.#captures.shift();
    if (capture === undefined) return;
    await rm(capture.path, { recursive: true, force: true });
    this.#setBytes(this.#bytes - capture.bytes);
    this.#options.onDeleted?.(reason, capture);
  }

  #setBytes(bytes: number): void {
    this.#bytes = Math.max(0, bytes);
    this.#options.onBytes?.(this.#bytes);
  }
}
