import { readFile, stat } from 'node:fs/promises';
import { expectedEnviDataBytes, findEnviDataFile, readEnviHeader } from '../../../io/envi/data-file.js';
import { enviDtype } from '../../../io/envi/data-types.js';
import { decodeSafetensors, SafetensorsError } from '../../../io/safetensors.js';
import { type CaptureMetadata, readCaptureMetadata, timestampsStorage } from '../capture-header.js';
import { type CliCommand, type CliIO, UsageError } from '../command.js';

/** The per-line timestamps of a capture, summarised. */
export interface CaptureTimestampsSummary {
  count: number;
  /** Where they are kept: the header, or `<name>.timestamps.json` next to it. */
  storage: 'header' | 'sidecar';
  /** ISO time of the first and last line. */
  first: string;
  last: string;
  /** Mean time between lines (the line period), ms. */
  meanPeriodMs: number;
  /** Longest time between two lines, ms (much more than the mean: lines were lost there). */
  maxPeriodMs: number;
}

/** What `inspect` reports of a cube written by `cubestream capture`. */
export interface CaptureInspection {
  camera: { id: string; vendor: string; model: string; serial: string };
  /** Camera settings read back at capture, by GenICam name. */
  features: Record<string, string | number | boolean>;
  linesLost: number;
  calibration?: string;
  timestamps?: CaptureTimestampsSummary;
}

/** What `inspect` reports for an ENVI cube (the `--json` output). */
export interface EnviInspection {
  format: 'envi';
  file: string;
  lines: number;
  samples: number;
  bands: number;
  dataType: number;
  dataTypeName: string;
  interleave: string;
  byteOrder: number;
  headerOffset: number;
  /** `[first, last]` wavelength (nm), or band indices when units are `index`. */
  wavelengthRange: [number, number];
  wavelengthUnits: 'nm' | 'index';
  dataFile: string;
  expectedBytes: number;
  actualBytes: number;
  sizeOk: boolean;
  description?: string;
  /** `counts` or `reflectance`, from the `cubestream radiometry` header field. */
  radiometry?: string;
  /** Present for a cube written by `cubestream capture`. */
  capture?: CaptureInspection;
}

/** What `inspect` reports for a safetensors file (the `--json` output). */
export interface SafetensorsInspection {
  format: 'safetensors';
  file: string;
  fileBytes: number;
  tensors: { name: string; dtype: string; shape: number[] }[];
  metadata: Record<string, string>;
}

function timestampsSummary(timestamps: Float64Array): CaptureTimestampsSummary | undefined {
  const count = timestamps.length;
  const first = timestamps[0];
  const last = timestamps[count - 1];
  if (first === undefined || last === undefined) return undefined;
  let maxPeriodMs = 0;
  for (let i = 1; i < count; i++) {
    maxPeriodMs = Math.max(maxPeriodMs, (timestamps[i] as number) - (timestamps[i - 1] as number));
  }
  return {
    count,
    storage: timestampsStorage(count),
    first: new Date(first).toISOString(),
    last: new Date(last).toISOString(),
    meanPeriodMs: count > 1 ? (last - first) / (count - 1) : 0,
    maxPeriodMs,
  };
}

function captureInspection(meta: CaptureMetadata): CaptureInspection {
  const timestamps = timestampsSummary(meta.timestamps);
  return {
    camera: { ...meta.camera },
    features: { ...meta.features },
    linesLost: meta.linesLost,
    ...(meta.calibration === undefined ? {} : { calibration: meta.calibration }),
    ...(timestamps === undefined ? {} : { timestamps }),
  };
}

async function inspectEnvi(file: string): Promise<EnviInspection> {
  const header = await readEnviHeader(file);
  const dataFile = await findEnviDataFile(file);
  const actualBytes = (await stat(dataFile)).size;
  const expectedBytes = expectedEnviDataBytes(header);
  const wavelengths = header.wavelengths ?? [0, header.bands - 1];
  const { radiometry } = header;
  const capture = await readCaptureMetadata(file, header);
  return {
    format: 'envi',
    file,
    lines: header.lines,
    samples: header.samples,
    bands: header.bands,
    dataType: header.dataType,
    dataTypeName: enviDtype(header.dataType).name,
    interleave: header.interleave,
    byteOrder: header.byteOrder,
    headerOffset: header.headerOffset,
    wavelengthRange: [Math.min(...wavelengths), Math.max(...wavelengths)],
    wavelengthUnits: header.wavelengthUnits,
    dataFile,
    expectedBytes,
    actualBytes,
    sizeOk: actualBytes === expectedBytes,
    ...(header.description === undefined ? {} : { description: header.description }),
    ...(radiometry === undefined ? {} : { radiometry }),
    ...(capture === undefined ? {} : { capture: captureInspection(capture) }),
  };
}

async function inspectSafetensors(file: string): Promise<SafetensorsInspection> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    throw new SafetensorsError(`${file} cannot be read (${(cause as Error).message})`, { cause });
  }
  const decoded = decodeSafetensors(bytes);
  return {
    format: 'safetensors',
    file,
    fileBytes: bytes.byteLength,
    tensors: [...decoded.tensors.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape] })),
    metadata: { ...decoded.metadata },
  };
}

function enviText(r: EnviInspection): string {
  const rows: [string, string][] = [
    ['lines x samples x bands', `${r.lines} x ${r.samples} x ${r.bands}`],
    ['data type', `${r.dataType} (${r.dataTypeName})`],
    ['interleave', r.interleave],
    ['byte order', `${r.byteOrder} (${r.byteOrder === 0 ? 'little' : 'big'}-endian)`],
    ['header offset', String(r.headerOffset)],
    ['wavelengths', `${r.wavelengthRange[0]} .. ${r.wavelengthRange[1]} (${r.wavelengthUnits})`],
    ['data file', r.dataFile],
    ['size', `${r.actualBytes} bytes, expected ${r.expectedBytes}: ${r.sizeOk ? 'ok' : 'MISMATCH'}`],
  ];
  if (r.description !== undefined) rows.push(['description', r.description.replace(/\s*\n\s*/g, ' ')]);
  if (r.radiometry !== undefined) rows.push(['radiometry', r.radiometry]);
  if (r.capture !== undefined) rows.push(...captureRows(r.capture));
  return `ENVI cube ${r.file}\n${rows.map(([k, v]) => `  ${k.padEnd(24)} ${v}`).join('\n')}\n`;
}

function captureRows(c: CaptureInspection): [string, string][] {
  const { id, vendor, model, serial } = c.camera;
  const rows: [string, string][] = [
    ['camera', `${id} (${vendor} ${model}, serial ${serial})`],
    [
      'camera settings',
      Object.entries(c.features)
        .map(([name, value]) => `${name}=${value}`)
        .join(' '),
    ],
    ['lines lost', String(c.linesLost)],
  ];
  const t = c.timestamps;
  if (t !== undefined) {
    rows.push([
      'line timestamps',
      `${t.count} in the ${t.storage}, ${t.first} .. ${t.last}, period ${t.meanPeriodMs.toFixed(3)} ms (longest ${t.maxPeriodMs.toFixed(3)} ms)`,
    ]);
  }
  if (c.calibration !== undefined) rows.push(['calibration', c.calibration]);
  return rows;
}

function safetensorsText(r: SafetensorsInspection): string {
  const lines = [`safetensors ${r.file} (${r.fileBytes} bytes)`, `  tensors (${r.tensors.length}):`];
  for (const t of r.tensors) lines.push(`    ${t.name}  ${t.dtype}  [${t.shape.join(', ')}]`);
  const meta = Object.entries(r.metadata);
  lines.push(`  metadata (${meta.length}):`);
  for (const [k, v] of meta) lines.push(`    ${k} = ${v}`);
  return `${lines.join('\n')}\n`;
}

function report(
  io: CliIO,
  json: boolean,
  result: EnviInspection | SafetensorsInspection,
  text: string,
): void {
  io.out(json ? `${JSON.stringify(result, null, 2)}\n` : text);
}

/**
 * `cubestream inspect <file.hdr|file.safetensors> [--json]`: shape, storage and size check of
 * an ENVI cube, or the tensors and metadata of a safetensors file. For a cube written by
 * `cubestream capture`, also its radiometry, camera, camera settings, lost lines and line
 * timestamps. Exits 1 (after the report) when an ENVI data file's size does not match its header.
 *
 * @example
 * ```sh
 * cubestream inspect /data/scenes/abu-beach-1/cube.hdr --json
 * ```
 */
export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'Describe an ENVI cube (a capture too) or a safetensors file',
  usage: `cubestream inspect <file.hdr|file.safetensors> [--json]
  --json  print one JSON object instead of text`,
  options: { json: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) {
      throw new UsageError(`expects exactly one file, got ${positionals.length}`);
    }
    const file = positionals[0] as string;
    const json = values.json === true;
    if (/\.hdr$/i.test(file)) {
      const result = await inspectEnvi(file);
      report(io, json, result, enviText(result));
      if (!result.sizeOk) {
        io.err(
          `cubestream inspect: data file ${result.dataFile} holds ${result.actualBytes} bytes, header says ${result.expectedBytes}\n`,
        );
        return 1;
      }
      return 0;
    }
    if (/\.safetensors$/i.test(file)) {
      const result = await inspectSafetensors(file);
      report(io, json, result, safetensorsText(result));
      return 0;
    }
    throw new UsageError(`expects a .hdr or .safetensors file, got ${JSON.stringify(file)}`);
  },
};
