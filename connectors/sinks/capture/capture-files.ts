/**
 * One capture on disk: a decided block's spectra as an ENVI cube (`cube.hdr` + `cube.img`), its
 * predicted mask as a one-band ENVI uint8 (`predicted_mask.hdr` + `.img`), its score map as raw
 * little-endian float32 (`scores.f32`), its decision as sent (`decision.json`) and what the
 * capture is (`capture.json`). The folder is one item of a `cubestream train` dataset
 * (`<capture>/cube.hdr`); the mask is named so that training never takes it for ground truth
 * (docs/capture.md).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type DecidedFrame,
  type Decision,
  encodeDecision,
  type Verdict,
} from '../../../src/core/decision.js';
import type { Radiometry, WavelengthUnits } from '../../../src/core/frame.js';
import { writeEnviCube } from '../../../src/io/envi/writer.js';
import type { CaptureDataType } from './capture-options.js';

/** Value of the `schema` field of `capture.json`. */
export const CAPTURE_SCHEMA = 'cubestream.capture/1';

/** What a capture holds: an anomalous block (to review) or a sampled normal one (training data). */
export type CaptureKind = Exclude<Verdict, 'unknown'>;

/** Every {@link CaptureKind}: the `kind` label of `cubestream_captures_total`. */
export const CAPTURE_KINDS: readonly CaptureKind[] = ['anomalous', 'normal'];

/** The folder under the capture root each kind goes to. */
export const CAPTURE_FOLDERS: Readonly<Record<CaptureKind, string>> = {
  anomalous: 'review',
  normal: 'normal',
};

/** File names inside one capture folder. */
export const CAPTURE_FILES = {
  /** The spectra, ENVI (`cube.img` next to it). */
  cube: 'cube.hdr',
  /** The predicted mask (1 = score >= τ), ENVI uint8, one band; not ground truth. */
  predictedMask: 'predicted_mask.hdr',
  /** One float32 score per pixel, row-major, little-endian, no header (shape in `capture.json`). */
  scores: 'scores.f32',
  /** The decision message as it was published (docs/wire-format.md §2). */
  decision: 'decision.json',
  /** What the capture is: {@link CaptureMetadata}. */
  metadata: 'capture.json',
} as const;

/** ENVI header keys a captured cube carries besides its geometry and wavelengths. */
export const CAPTURE_CUBE_KEYS = {
  cameraId: 'cubestream camera id',
  frameId: 'cubestream frame id',
  rowOffset: 'cubestream row offset',
  totalRows: 'cubestream total rows',
  capturedAt: 'cubestream captured at',
  acquisitionTime: 'acquisition time',
  modelVersion: 'cubestream model version',
  verdict: 'cubestream verdict',
  threshold: 'cubestream threshold',
  labelSource: 'cubestream label source',
} as const;

/**
 * A decided block copied for writing: its own arrays, nothing shared with the source's buffer,
 * which goes back to its pool right after the copy.
 */
export interface CaptureSnapshot {
  readonly kind: CaptureKind;
  readonly cameraId: string;
  readonly frameId: number;
  readonly rowOffset: number;
  readonly totalRows: number;
  /** Epoch ms, from the source. */
  readonly capturedAt: number;
  readonly height: number;
  readonly width: number;
  readonly bands: number;
  readonly wavelengths: Float32Array;
  readonly wavelengthUnits: WavelengthUnits;
  readonly radiometry?: Radiometry;
  /** BIP float32 `[height * width * bands]`. */
  readonly data: Float32Array;
  /** One score per pixel, row-major. */
  readonly scores: Float32Array;
  /** 1 where score >= threshold. */
  readonly mask: Uint8Array;
  readonly threshold: number;
  readonly modelVersion: string;
  readonly decision: Decision;
}

/** What `capture.json` holds. */
export interface CaptureMetadata {
  readonly schema: typeof CAPTURE_SCHEMA;
  readonly kind: CaptureKind;
  readonly cameraId: string;
  readonly frameId: number;
  readonly rowOffset: number;
  readonly totalRows: number;
  readonly capturedAt: number;
  /** `capturedAt` as ISO 8601. */
  readonly capturedAtIso: string;
  readonly modelVersion: string;
  readonly threshold: number;
  readonly radiometry?: Radiometry;
  readonly cube: {
    readonly file: string;
    readonly dataType: 'uint16' | 'float32';
    readonly lines: number;
    readonly samples: number;
    readonly bands: number;
  };
  readonly scores: {
    readonly file: string;
    readonly dtype: 'float32';
    readonly byteOrder: 'little-endian';
    readonly lines: number;
    readonly samples: number;
  };
  /** The predicted mask: the model's output, a label candidate to be reviewed, never ground truth. */
  readonly label: {
    readonly file: string;
    readonly source: 'predicted';
    readonly groundTruth: false;
    readonly classIds: { readonly normal: 0; readonly anomalous: 1 };
  };
}

/**
 * Copies what a capture needs of a decided block (spectra, scores, mask, identity), so that the
 * block's buffer can go back to its source at once. Undefined when the block carries no spectra
 * (a frame assembled from blocks, `pipeline.decide.assemble: frame`).
 *
 * @example
 * ```ts
 * const snapshot = snapshotOf(decided, 'anomalous'); // decided.release?.() may follow at once
 * ```
 */
export function snapshotOf(decided: DecidedFrame, kind: CaptureKind): CaptureSnapshot | undefined {
  const { spectra } = decided;
  if (spectra === undefined) return undefined;
  return {
    kind,
    cameraId: decided.cameraId,
    frameId: decided.frameId,
    rowOffset: decided.rowOffset,
    totalRows: decided.totalRows,
    capturedAt: decided.capturedAt,
    height: decided.height,
    width: decided.width,
    bands: spectra.bands,
    wavelengths: spectra.wavelengths.slice(),
    wavelengthUnits: spectra.wavelengthUnits,
    ...(decided.radiometry === undefined ? {} : { radiometry: decided.radiometry }),
    data: spectra.data.slice(),
    scores: decided.scores.slice(),
    mask: decided.mask.slice(),
    threshold: decided.threshold,
    modelVersion: decided.decision.modelVersion,
    decision: decided.decision,
  };
}

/** `20260101T120000123Z`: an epoch-ms time as a file-name-safe UTC stamp (sorts in time order). */
export function captureTimestamp(epochMs: number): string {
  const date = new Date(Number.isFinite(epochMs) ? epochMs : 0);
  const iso = Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
  return iso.replace(/[-:]/g, '').replace('.', '');
}

/**
 * The folder name of a capture: capture time, frame id and row offset,
 * e.g. `20260101T120000123Z-f000042-r0064`.
 *
 * @example
 * ```ts
 * captureName({ capturedAt: 0, frameId: 42, rowOffset: 64 }); // '19700101T000000000Z-f000042-r0064'
 * ```
 */
export function captureName(block: Pick<CaptureSnapshot, 'capturedAt' | 'frameId' | 'rowOffset'>): string {
  const frame = String(block.frameId).padStart(6, '0');
  const row = String(block.rowOffset).padStart(4, '0');
  return `${captureTimestamp(block.capturedAt)}-f${frame}-r${row}`;
}

/** Bytes a capture's cube, mask and scores take on disk at most (float32 spectra), plus room for the text files. */
export function estimateCaptureBytes(block: Pick<CaptureSnapshot, 'height' | 'width' | 'bands'>): number {
  const pixels = block.height * block.width;
  return pixels * block.bands * 4 + pixels * (1 + 4) + 16 * 1024;
}

/** Whether every value is a whole number in 0..65535, so that uint16 holds it exactly. */
export function fitsUint16(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!(v >= 0 && v <= 65_535 && Math.trunc(v) === v)) return false;
  }
  return true;
}

function storedType(data: Float32Array, dataType: CaptureDataType): 'uint16' | 'float32' {
  if (dataType === 'auto') return fitsUint16(data) ? 'uint16' : 'float32';
  return dataType;
}

function littleEndianFloats(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return bytes;
}

/**
 * Writes one capture into `folder` (created): cube, predicted mask, scores, decision, metadata.
 *
 * @returns the metadata written to `capture.json`
 * @throws the file system's error, or `EnviWriteError`; the folder may then hold part of it
 * @example
 * ```ts
 * declare const snapshot: CaptureSnapshot;
 * await writeCaptureFolder('/tmp/capture', snapshot, 'auto');
 * ```
 */
export async function writeCaptureFolder(
  folder: string,
  snapshot: CaptureSnapshot,
  dataType: CaptureDataType,
): Promise<CaptureMetadata> {
  await mkdir(folder, { recursive: true });
  const s = snapshot;
  const stored = storedType(s.data, dataType);
  const acquisition = new Date(s.capturedAt);
  const identity: Record<string, string> = {
    [CAPTURE_CUBE_KEYS.cameraId]: s.cameraId,
    [CAPTURE_CUBE_KEYS.frameId]: String(s.frameId),
    [CAPTURE_CUBE_KEYS.rowOffset]: String(s.rowOffset),
    [CAPTURE_CUBE_KEYS.totalRows]: String(s.totalRows),
    [CAPTURE_CUBE_KEYS.capturedAt]: String(s.capturedAt),
    ...(Number.isNaN(acquisition.getTime())
      ? {}
      : { [CAPTURE_CUBE_KEYS.acquisitionTime]: acquisition.toISOString() }),
    [CAPTURE_CUBE_KEYS.modelVersion]: s.modelVersion,
  };
  const rows = `rows ${s.rowOffset}..${s.rowOffset + s.height - 1}`;
  await writeEnviCube(
    path.join(folder, CAPTURE_FILES.cube),
    { lines: s.height, samples: s.width, bands: s.bands, data: s.data, wavelengths: s.wavelengths },
    {
      dataType: stored === 'uint16' ? 12 : 4,
      interleave: 'bip',
      wavelengthUnits: s.wavelengthUnits,
      description: `cubestream capture (${s.kind}): camera ${s.cameraId}, frame ${s.frameId}, ${rows}`,
      ...(s.radiometry === undefined ? {} : { radiometry: s.radiometry }),
      extra: {
        ...identity,
        [CAPTURE_CUBE_KEYS.verdict]: s.kind,
        [CAPTURE_CUBE_KEYS.threshold]: String(s.threshold),
      },
    },
  );
  await writeEnviCube(
    path.join(folder, CAPTURE_FILES.predictedMask),
    { lines: s.height, samples: s.width, bands: 1, data: Float32Array.from(s.mask) },
    {
      dataType: 1,
      interleave: 'bsq',
      description: `PREDICTED mask (score >= threshold ${s.threshold}), not ground truth: review before use as a label`,
      extra: {
        ...identity,
        [CAPTURE_CUBE_KEYS.labelSource]: 'predicted',
        [CAPTURE_CUBE_KEYS.threshold]: String(s.threshold),
      },
    },
  );
  await writeFile(path.join(folder, CAPTURE_FILES.scores), littleEndianFloats(s.scores));
  await writeFile(path.join(folder, CAPTURE_FILES.decision), `${encodeDecision(s.decision)}\n`);
  const metadata: CaptureMetadata = {
    schema: CAPTURE_SCHEMA,
    kind: s.kind,
    cameraId: s.cameraId,
    frameId: s.frameId,
    rowOffset: s.rowOffset,
    totalRows: s.totalRows,
    capturedAt: s.capturedAt,
    capturedAtIso: Number.isNaN(acquisition.getTime()) ? '' : acquisition.toISOString(),
    modelVersion: s.modelVersion,
    threshold: s.threshold,
    ...(s.radiometry === undefined ? {} : { radiometry: s.radiometry }),
    cube: { file: CAPTURE_FILES.cube, dataType: stored, lines: s.height, samples: s.width, bands: s.bands },
    scores: {
      file: CAPTURE_FILES.scores,
      dtype: 'float32',
      byteOrder: 'little-endian',
      lines: s.height,
      samples: s.width,
    },
    label: {
      file: CAPTURE_FILES.predictedMask,
      source: 'predicted',
      groundTruth: false,
      classIds: { normal: 0, anomalous: 1 },
    },
  };
  await writeFile(path.join(folder, CAPTURE_FILES.metadata), `${JSON.stringify(metadata, null, 2)}\n`);
  return metadata;
}

/**
 * Reads a capture's score map back (`scores.f32`, row-major float32, little-endian).
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * const scores = decodeCaptureScores(await readFile('captures/review/cam0/x/scores.f32'));
 * ```
 */
export function decodeCaptureScores(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(Math.floor(bytes.byteLength / 4));
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
