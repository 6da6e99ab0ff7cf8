import { readFile, stat } from 'node:fs/promises';
import { expectedEnviDataBytes, findEnviDataFile, readEnviHeader } from '../../../io/envi/data-file.js';
import { enviDtype } from '../../../io/envi/data-types.js';
import { decodeSafetensors, SafetensorsError } from '../../../io/safetensors.js';
import { type CliCommand, type CliIO, UsageError } from '../command.js';

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
}

/** What `inspect` reports for a safetensors file (the `--json` output). */
export interface SafetensorsInspection {
  format: 'safetensors';
  file: string;
  fileBytes: number;
  tensors: { name: string; dtype: string; shape: number[] }[];
  metadata: Record<string, string>;
}

async function inspectEnvi(file: string): Promise<EnviInspection> {
  const header = await readEnviHeader(file);
  const dataFile = await findEnviDataFile(file);
  const actualBytes = (await stat(dataFile)).size;
  const expectedBytes = expectedEnviDataBytes(header);
  const wavelengths = header.wavelengths ?? [0, header.bands - 1];
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
  return `ENVI cube ${r.file}\n${rows.map(([k, v]) => `  ${k.padEnd(24)} ${v}`).join('\n')}\n`;
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
 * an ENVI cube, or the tensors and metadata of a safetensors file. Exits 1 (after the report)
 * when an ENVI data file's size does not match its header.
 *
 * @example
 * ```sh
 * cubestream inspect /data/scenes/abu-beach-1/cube.hdr --json
 * ```
 */
export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'Describe an ENVI cube or a safetensors file',
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
