/**
 * A model bundle as one byte string, to store and ship it whole (the JetStream Object Store of
 * `cubestream model push`, docs/model-rollout.md): a POSIX ustar archive of the bundle's four
 * files, written deterministically (sorted names, mode 0644, owner 0, mtime 0), so that the same
 * bundle always gives the same bytes and the same SHA-256, and `tar -xf` unpacks it. The files
 * keep the model card's hashes: whoever unpacks it verifies them again ({@link loadVerifiedBundle}).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleError, type LoadedBundle, loadBundle } from './bundle.js';

/** The files of a bundle folder, in archive order (sorted). */
export const BUNDLE_FILES = [
  'calibration.json',
  'model-card.json',
  'pipeline.yaml',
  'weights.safetensors',
] as const;

/** One of {@link BUNDLE_FILES}. */
export type BundleFileName = (typeof BUNDLE_FILES)[number];

/** Largest archive {@link unpackBundleArchive} accepts (1 GiB): a bound on what a download may write. */
export const MAX_BUNDLE_ARCHIVE_BYTES = 1024 ** 3;

const BLOCK = 512;

/** A bundle packed by {@link packBundleArchive}. */
export interface BundleArchive {
  /** The ustar bytes. */
  readonly bytes: Uint8Array;
  /** SHA-256 of {@link BundleArchive.bytes}, hex. */
  readonly sha256: string;
  /** The bundle as `loadBundle` read it (hashes checked). */
  readonly bundle: LoadedBundle;
}

/** SHA-256 of bytes or text, lower-case hex. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Loads a bundle folder with every hash its model card records checked: the weights (as
 * `loadBundle` does) and `pipeline.yaml` (`hashes.pipelineSha256`), so that neither the network
 * nor what it expects can change without the card saying so.
 *
 * @throws `BundleError` or `ConfigError` naming the file and what is wrong
 * @example
 * ```ts
 * const verified = await loadVerifiedBundle('models/demo');
 * verified.manifest.version; // 'demo-lentils-2'
 * ```
 */
export async function loadVerifiedBundle(dir: string): Promise<LoadedBundle> {
  const bundle = await loadBundle(dir);
  const pipelineSha256 = sha256Hex(await readFile(join(dir, 'pipeline.yaml')));
  const recorded = (bundle.card as { hashes?: { pipelineSha256?: unknown } }).hashes?.pipelineSha256;
  if (recorded !== pipelineSha256) {
    throw new BundleError(
      `model bundle ${dir}: pipeline.yaml has SHA-256 ${pipelineSha256} but model-card.json records ${String(recorded)} (file changed or corrupted)`,
    );
  }
  return bundle;
}

function writeText(header: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > length) throw new BundleError(`bundle archive: "${text}" does not fit ${length} bytes`);
  header.set(bytes, offset);
}

/** `value` in octal, zero-padded to `length - 1` digits and NUL-terminated. */
function writeOctal(header: Uint8Array, offset: number, length: number, value: number): void {
  writeText(header, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

function headerChecksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return sum;
}

function fileHeader(name: string, size: number): Uint8Array {
  const header = new Uint8Array(BLOCK);
  writeText(header, 0, 100, name);
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, 0);
  header[156] = 0x30; // '0': a regular file
  writeText(header, 257, 6, 'ustar\0');
  writeText(header, 263, 2, '00');
  writeText(header, 265, 32, 'root');
  writeText(header, 297, 32, 'root');
  writeText(header, 148, 8, `${headerChecksum(header).toString(8).padStart(6, '0')}\0 `);
  return header;
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/**
 * The ustar archive of named files, in the order given; deterministic (no time, owner or mode
 * of the files enters it).
 */
export function ustar(files: readonly { readonly name: string; readonly bytes: Uint8Array }[]): Uint8Array {
  const total = files.reduce((sum, file) => sum + BLOCK + padded(file.bytes.length), 2 * BLOCK);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const file of files) {
    out.set(fileHeader(file.name, file.bytes.length), offset);
    out.set(file.bytes, offset + BLOCK);
    offset += BLOCK + padded(file.bytes.length);
  }
  return out;
}

function readText(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return Buffer.from(end === -1 ? field : field.subarray(0, end)).toString('utf8');
}

function readOctal(block: Uint8Array, offset: number, length: number): number {
  const text = readText(block, offset, length).trim();
  return /^[0-7]+$/.test(text) ? Number.parseInt(text, 8) : Number.NaN;
}

/**
 * The files of a ustar archive (regular files only).
 *
 * @throws `BundleError` for a truncated archive, a bad header checksum, or an entry that is not a regular file
 */
export function readUstar(bytes: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > bytes.length) throw new BundleError('bundle archive: truncated (no end marker)');
    const header = bytes.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return files;
    const name = readText(header, 0, 100);
    const stored = readOctal(header, 148, 8);
    if (stored !== headerChecksum(header))
      throw new BundleError(`bundle archive: header of "${name}" has a bad checksum`);
    const type = header[156];
    if (type !== 0x30 && type !== 0) throw new BundleError(`bundle archive: "${name}" is not a regular file`);
    const size = readOctal(header, 124, 12);
    if (!Number.isSafeInteger(size) || offset + BLOCK + size > bytes.length)
      throw new BundleError(`bundle archive: "${name}" is truncated`);
    files.set(name, bytes.slice(offset + BLOCK, offset + BLOCK + size));
    offset += BLOCK + padded(size);
  }
}

/**
 * Loads and verifies a bundle folder ({@link loadVerifiedBundle}) and packs its four files.
 *
 * @throws `BundleError` or `ConfigError` when the bundle does not load or a hash does not match
 * @example
 * ```ts
 * const archive = await packBundleArchive('models/demo');
 * archive.bundle.manifest.version; // 'demo-lentils-2'
 * archive.sha256; // the same for the same bundle, every time
 * ```
 */
export async function packBundleArchive(dir: string): Promise<BundleArchive> {
  const bundle = await loadVerifiedBundle(dir);
  const files = await Promise.all(
    BUNDLE_FILES.map(async (name) => ({ name, bytes: new Uint8Array(await readFile(join(dir, name))) })),
  );
  const bytes = ustar(files);
  return { bytes, sha256: sha256Hex(bytes), bundle };
}

/**
 * Writes the four bundle files of an archive into `dir` (created when missing); nothing else is
 * written, and an archive with any other entry, or without one of the four, is refused. The
 * files are not verified here: load them with {@link loadVerifiedBundle}.
 *
 * @throws `BundleError` for a malformed archive or one that is not exactly a bundle's files
 */
export async function unpackBundleArchive(bytes: Uint8Array, dir: string): Promise<void> {
  if (bytes.length > MAX_BUNDLE_ARCHIVE_BYTES)
    throw new BundleError(`bundle archive: ${bytes.length} bytes exceed ${MAX_BUNDLE_ARCHIVE_BYTES}`);
  const files = readUstar(bytes);
  const names = [...files.keys()].sort();
  if (names.length !== BUNDLE_FILES.length || names.some((name, i) => name !== BUNDLE_FILES[i])) {
    throw new BundleError(
      `bundle archive: holds ${names.join(', ') || 'nothing'}; a bundle is exactly ${BUNDLE_FILES.join(', ')}`,
    );
  }
  await mkdir(dir, { recursive: true });
  for (const name of BUNDLE_FILES) await writeFile(join(dir, name), files.get(name) ?? new Uint8Array());
}
