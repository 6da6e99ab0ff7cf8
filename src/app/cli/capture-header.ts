import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EnviHeaderError } from '../../io/envi/errors.js';
import type { EnviHeader } from '../../io/envi/header.js';

/** A GenICam feature value as read back from a camera. */
export type CaptureFeatureValue = string | number | boolean;

/** The camera a cube was captured with (as `cubestream cameras` lists it). */
export interface CaptureCamera {
  readonly id: string;
  readonly vendor: string;
  readonly model: string;
  readonly serial: string;
}

/** Where the per-line timestamps of a capture are kept. */
export type TimestampsStorage = 'header' | 'sidecar';

/** What `cubestream capture` records about a cube besides its pixels. */
export interface CaptureMetadata {
  readonly camera: CaptureCamera;
  /** Camera settings read back after they were set, by GenICam name (`Width`, `PixelFormat`, ...). */
  readonly features: Readonly<Record<string, CaptureFeatureValue>>;
  /** Lines the camera sent that never arrived whole (incomplete buffers, gaps in block ids, a full ring). */
  readonly linesLost: number;
  /** Epoch ms of each line of the cube, in order (camera clock anchored to the host clock). */
  readonly timestamps: Float64Array;
  /** The reference folder the counts were converted to reflectance with, if any. */
  readonly calibration?: string;
}

/** Header keys of a capture (ENVI keys are lower case, single spaces). */
export const CAPTURE_HEADER_KEYS = {
  camera: 'cubestream camera',
  features: 'cubestream camera features',
  linesLost: 'cubestream lines lost',
  timestamps: 'cubestream line timestamps',
  timestampsFile: 'cubestream line timestamps file',
  calibration: 'cubestream calibration',
  acquisitionTime: 'acquisition time',
} as const;

/**
 * Captures of more lines than this keep their timestamps in a sidecar `<name>.timestamps.json`
 * (about 15 characters a line: 10 000 lines make a 150 KB header; ENVI headers are read whole,
 * and ours may hold at most 4 MiB).
 */
export const HEADER_TIMESTAMPS_MAX_LINES = 10_000;

/** The sidecar file of a capture's timestamps, next to its header. */
export function timestampsSidecarPath(hdrPath: string): string {
  return hdrPath.replace(/\.hdr$/i, '.timestamps.json');
}

/** The sidecar's content. */
interface TimestampsSidecar {
  readonly unit: 'epoch ms';
  readonly lines: number;
  readonly timestamps: number[];
}

// Characters with a meaning in a `{name=value, ...}` list are percent-encoded.
const ENCODED = /[%,{}=\r\n]/g;

function encodePart(text: string): string {
  return text.replace(ENCODED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function decodePart(text: string): string {
  return text.replace(/%([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** `{Width=1024, PixelFormat=Mono16}`: names and values percent-encoded where they hold `%,{}=` or line breaks. */
function formatPairs(pairs: Readonly<Record<string, CaptureFeatureValue>>): string {
  return Object.entries(pairs)
    .map(([name, value]) => `${encodePart(name)}=${encodePart(String(value))}`)
    .join(', ');
}

/** Numbers and `true`/`false` come back typed; everything else as text. */
function parseValue(text: string): CaptureFeatureValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  const number = Number(text);
  return text.trim() !== '' && Number.isFinite(number) ? number : text;
}

function parsePairs(
  file: string,
  key: string,
  raw: string,
  typed: boolean,
): Record<string, CaptureFeatureValue> {
  const out: Record<string, CaptureFeatureValue> = {};
  for (const part of raw.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0)
      throw new EnviHeaderError(file, `"${key}": expected name=value, got ${JSON.stringify(item)}`, key);
    const value = decodePart(item.slice(eq + 1).trim());
    out[decodePart(item.slice(0, eq).trim())] = typed ? parseValue(value) : value;
  }
  return out;
}

function formatTimestamps(timestamps: Float64Array): string {
  const values: string[] = [];
  for (const t of timestamps) values.push(String(Math.round(t * 1000) / 1000));
  // Ten a line keeps the header readable in an editor.
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += 10) lines.push(values.slice(i, i + 10).join(', '));
  return lines.join(',\n');
}

function parseTimestamps(file: string, key: string, raw: string, lines: number): Float64Array {
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.length !== lines) {
    throw new EnviHeaderError(
      file,
      `"${key}" holds ${parts.length} values, the cube has ${lines} lines`,
      key,
    );
  }
  const out = new Float64Array(lines);
  parts.forEach((part, i) => {
    const value = Number(part);
    if (part === '' || !Number.isFinite(value)) {
      throw new EnviHeaderError(file, `"${key}" value ${i} is ${JSON.stringify(part)}, not a number`, key);
    }
    out[i] = value;
  });
  return out;
}

/**
 * The header fields of a capture, to pass as the ENVI writer's `extra`; when the cube has more
 * than {@link HEADER_TIMESTAMPS_MAX_LINES} lines, the timestamps go to the sidecar
 * ({@link writeTimestampsSidecar}) and the header names it.
 *
 * @example
 * ```ts
 * const fields = captureHeaderFields({
 *   camera: { id: 'Aravis-Fake-GV01', vendor: 'Aravis', model: 'Fake', serial: 'GV01' },
 *   features: { Width: 512, Height: 16, PixelFormat: 'Mono16' },
 *   linesLost: 0,
 *   timestamps: Float64Array.of(1_700_000_000_000, 1_700_000_000_010),
 * }, 'capture.hdr');
 * fields['cubestream camera features']; // 'Width=512, Height=16, PixelFormat=Mono16'
 * ```
 */
export function captureHeaderFields(meta: CaptureMetadata, hdrPath: string): Record<string, string> {
  const fields: Record<string, string> = {
    [CAPTURE_HEADER_KEYS.camera]: formatPairs({ ...meta.camera }),
    [CAPTURE_HEADER_KEYS.features]: formatPairs(meta.features),
    [CAPTURE_HEADER_KEYS.linesLost]: String(meta.linesLost),
  };
  const first = meta.timestamps[0];
  if (first !== undefined) fields[CAPTURE_HEADER_KEYS.acquisitionTime] = new Date(first).toISOString();
  if (meta.timestamps.length > HEADER_TIMESTAMPS_MAX_LINES) {
    fields[CAPTURE_HEADER_KEYS.timestampsFile] = path.basename(timestampsSidecarPath(hdrPath));
  } else {
    fields[CAPTURE_HEADER_KEYS.timestamps] = formatTimestamps(meta.timestamps);
  }
  if (meta.calibration !== undefined) fields[CAPTURE_HEADER_KEYS.calibration] = meta.calibration;
  return fields;
}

/** Whether {@link captureHeaderFields} sends these timestamps to a sidecar. */
export function timestampsStorage(lines: number): TimestampsStorage {
  return lines > HEADER_TIMESTAMPS_MAX_LINES ? 'sidecar' : 'header';
}

/**
 * Writes `<name>.timestamps.json` next to the header (for captures of more than
 * {@link HEADER_TIMESTAMPS_MAX_LINES} lines).
 */
export async function writeTimestampsSidecar(hdrPath: string, timestamps: Float64Array): Promise<string> {
  const file = timestampsSidecarPath(hdrPath);
  const body: TimestampsSidecar = {
    unit: 'epoch ms',
    lines: timestamps.length,
    timestamps: Array.from(timestamps, (t) => Math.round(t * 1000) / 1000),
  };
  await writeFile(file, `${JSON.stringify(body)}\n`);
  return file;
}

async function readSidecar(hdrPath: string, name: string, lines: number): Promise<Float64Array> {
  const file = path.join(path.dirname(hdrPath), name);
  let body: unknown;
  try {
    body = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new EnviHeaderError(
      hdrPath,
      `"${CAPTURE_HEADER_KEYS.timestampsFile}" names ${file}, which cannot be read (${(cause as Error).message})`,
      CAPTURE_HEADER_KEYS.timestampsFile,
      { cause },
    );
  }
  const timestamps = (body as Partial<TimestampsSidecar> | null)?.timestamps;
  if (
    !Array.isArray(timestamps) ||
    timestamps.length !== lines ||
    timestamps.some((t) => typeof t !== 'number' || !Number.isFinite(t))
  ) {
    throw new EnviHeaderError(
      hdrPath,
      `${file} must hold { "timestamps": [...] } with ${lines} finite numbers (one a line)`,
      CAPTURE_HEADER_KEYS.timestampsFile,
    );
  }
  return Float64Array.from(timestamps);
}

/**
 * The capture metadata of a parsed header, or `undefined` when the cube was not written by
 * `cubestream capture` (no `cubestream camera` key). Reads the timestamps sidecar when the header
 * names one.
 *
 * @throws {@link EnviHeaderError} naming the key or file that cannot be read
 * @example
 * ```ts
 * import { readEnviHeader } from '../../io/envi/index.js';
 * const meta = await readCaptureMetadata('captures/belt.hdr', await readEnviHeader('captures/belt.hdr'));
 * meta?.features.PixelFormat; // 'Mono16'
 * ```
 */
export async function readCaptureMetadata(
  hdrPath: string,
  header: EnviHeader,
): Promise<CaptureMetadata | undefined> {
  const f = header.fields;
  const cameraRaw = f[CAPTURE_HEADER_KEYS.camera];
  if (cameraRaw === undefined) return undefined;
  // Identity stays text: a serial such as 007 is not a number.
  const camera = parsePairs(hdrPath, CAPTURE_HEADER_KEYS.camera, cameraRaw, false);
  const text = (name: string) => String(camera[name] ?? '');
  const lostRaw = f[CAPTURE_HEADER_KEYS.linesLost] ?? '0';
  const linesLost = Number(lostRaw);
  if (!Number.isSafeInteger(linesLost) || linesLost < 0) {
    throw new EnviHeaderError(
      hdrPath,
      `"${CAPTURE_HEADER_KEYS.linesLost}" must be a count, got ${JSON.stringify(lostRaw)}`,
      CAPTURE_HEADER_KEYS.linesLost,
    );
  }
  const sidecar = f[CAPTURE_HEADER_KEYS.timestampsFile];
  const inline = f[CAPTURE_HEADER_KEYS.timestamps];
  const timestamps =
    sidecar !== undefined
      ? await readSidecar(hdrPath, sidecar, header.lines)
      : inline !== undefined
        ? parseTimestamps(hdrPath, CAPTURE_HEADER_KEYS.timestamps, inline, header.lines)
        : new Float64Array(0);
  const calibration = f[CAPTURE_HEADER_KEYS.calibration];
  return {
    camera: { id: text('id'), vendor: text('vendor'), model: text('model'), serial: text('serial') },
    features: parsePairs(hdrPath, CAPTURE_HEADER_KEYS.features, f[CAPTURE_HEADER_KEYS.features] ?? '', true),
    linesLost,
    timestamps,
    ...(calibration === undefined ? {} : { calibration }),
  };
}
