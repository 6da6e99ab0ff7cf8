import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { loadBundle } from '../../../model/bundle.js';
import type { GraphInputType } from '../../../scoring/onnx/deep-svdd-graph.js';
import { exportOnnx } from '../../../scoring/onnx/onnx-export.js';
import { type CliCommand, stringOption, UsageError } from '../command.js';
import { packageVersion } from '../version.js';

const INPUT_TYPES: readonly GraphInputType[] = ['float32', 'uint16'];

/** What `export` reports (the `--json` output). */
export interface ExportReport {
  /** The file written. */
  file: string;
  bytes: number;
  model: string;
  detector: string;
  graph: string;
  opset: number;
  input: { name: 'x'; dtype: GraphInputType; shape: ['N', number]; keptBands: number };
  outputs: string[];
  threshold: number;
}

function text(r: ExportReport): string {
  const rows: [string, string][] = [
    ['model', `${r.model} (${r.detector})`],
    ['graph', `${r.graph}, opset ${r.opset}`],
    ['input', `x ${r.input.dtype} [N, ${r.input.shape[1]}] (uses ${r.input.keptBands} bands)`],
    ['outputs', r.outputs.join(', ')],
    ['threshold', String(r.threshold)],
  ];
  return `wrote ${r.file} (${r.bytes} bytes)\n${rows.map(([k, v]) => `  ${k.padEnd(10)} ${v}`).join('\n')}\n`;
}

/**
 * `cubestream export --model DIR --out FILE.onnx [--input-type float32|uint16] [--json]`: the
 * fused scoring graph of a model bundle as a standalone ONNX file (opset 17), with the
 * calibration, wavelengths, model version and input layout in its metadata (docs/export.md).
 * Fails (exit 1, one line) for a bundle the fused graph does not cover, naming why.
 *
 * @example
 * ```sh
 * cubestream export --model models/demo --out demo.onnx --json
 * ```
 */
export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'Write the scoring graph of a model bundle as a standalone ONNX file',
  usage: `cubestream export --model DIR --out FILE.onnx [--input-type float32|uint16] [--json]
  --model DIR         the model bundle folder
  --out FILE.onnx     where to write the ONNX file (folders are created)
  --input-type TYPE   element type of the input x: float32 (default: spectra in the units the
                      model was trained on) or uint16 (raw counts, cast in the graph)
  --json              print one JSON object instead of text`,
  options: {
    model: { type: 'string' },
    out: { type: 'string' },
    'input-type': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }, io) {
    const model = stringOption(values, 'model', true);
    const out = stringOption(values, 'out', true);
    const inputType = (stringOption(values, 'input-type') ?? 'float32') as GraphInputType;
    if (!INPUT_TYPES.includes(inputType)) {
      throw new UsageError(`--input-type must be float32 or uint16, got ${JSON.stringify(inputType)}`);
    }
    const bundle = await loadBundle(model);
    const exported = exportOnnx(bundle, { inputType, producerVersion: packageVersion() });
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, exported.bytes);
    const report: ExportReport = {
      file: out,
      bytes: exported.bytes.byteLength,
      model: bundle.manifest.version,
      detector: bundle.manifest.detector,
      graph: exported.describe,
      opset: exported.opset,
      input: {
        name: 'x',
        dtype: exported.inputType,
        shape: ['N', exported.inChannels],
        keptBands: exported.kept.length,
      },
      outputs: Object.keys(exported.outputs),
      threshold: bundle.calibration.threshold,
    };
    io.out(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : text(report));
    return 0;
  },
};
