import type { BandpassRange } from '../../model/band-selection.js';
import type { BundleManifest, Calibration } from '../../model/bundle.js';
import type { GraphInputType } from './deep-svdd-graph.js';

/** Value of `cubestream.format` in an exported file: bumped when a key changes meaning. */
export const ONNX_EXPORT_FORMAT = 'cubestream.onnx-export/1';

/** How `x` is laid out, as written into `cubestream.input.layout`. */
export const ONNX_EXPORT_LAYOUT =
  'pixel-major (BIP): x[r * columns + c, b] is row r, column c, band b; a [rows, columns, bands] block is x reshaped to [rows * columns, bands], and scores reshape to [rows, columns]';

/** What {@link onnxExportMetadata} describes: the bundle and the graph made of it. */
export interface OnnxExportFacts {
  readonly manifest: BundleManifest;
  readonly calibration: Calibration;
  /** SHA-256 of the bundle's `weights.safetensors`, when it was loaded from a folder. */
  readonly weightsSha256?: string | undefined;
  /** The graph's description, e.g. `deep-svdd 61->61->128->32 float32`. */
  readonly describe: string;
  /** Operator set of the default domain. */
  readonly opset: number;
  /** Element type of `x`. */
  readonly inputType: GraphInputType;
  /** Indices of the input bands the graph uses, ascending. */
  readonly kept: Int32Array;
  /** The band-pass that chose them (absent: every band). */
  readonly bandpass?: BandpassRange | undefined;
  /** Each graph output: name -> what it holds. */
  readonly outputs: Readonly<Record<string, string>>;
}

const json = (value: unknown): string => JSON.stringify(value);

/**
 * The `metadata_props` of an exported scoring graph (docs/export.md lists every key): format,
 * model version and provenance, the calibration (τ, quantile, margin, score quantiles), and the
 * input `x` the graph expects (name, dtype, shape, layout, wavelengths, radiometry, kept bands).
 * Values are strings; lists and objects are JSON.
 *
 * @example
 * ```ts
 * const meta = onnxExportMetadata({
 *   manifest: bundle.manifest,
 *   calibration: bundle.calibration,
 *   describe: 'deep-svdd 61->61->128->32 float32',
 *   opset: 17,
 *   inputType: 'float32',
 *   kept: Int32Array.from(bundle.manifest.input.wavelengths, (_, i) => i),
 *   outputs: { scores: '[N] float32 squared distance' },
 * });
 * meta['cubestream.threshold']; // "0.0647…"
 * ```
 */
export function onnxExportMetadata(facts: OnnxExportFacts): Record<string, string> {
  const { manifest, calibration, kept } = facts;
  const { input } = manifest;
  return {
    'cubestream.format': ONNX_EXPORT_FORMAT,
    'cubestream.model_version': manifest.version,
    'cubestream.detector': manifest.detector,
    'cubestream.created_at': manifest.createdAt,
    ...(facts.weightsSha256 === undefined ? {} : { 'cubestream.weights_sha256': facts.weightsSha256 }),
    'cubestream.graph': facts.describe,
    'cubestream.opset': String(facts.opset),
    'cubestream.threshold': String(calibration.threshold),
    'cubestream.quantile': String(calibration.quantile),
    'cubestream.margin': String(calibration.margin),
    'cubestream.calibration': json(calibration),
    'cubestream.decision': 'a pixel is anomalous iff scores >= cubestream.threshold',
    'cubestream.input.name': 'x',
    'cubestream.input.dtype': facts.inputType,
    'cubestream.input.shape': json(['N', input.bands]),
    'cubestream.input.layout': ONNX_EXPORT_LAYOUT,
    'cubestream.input.wavelengths': json(input.wavelengths),
    'cubestream.input.wavelength_units': input.wavelengthUnits,
    'cubestream.input.radiometry': input.radiometry ?? 'unstated',
    'cubestream.input.bandpass': json(facts.bandpass ?? 'all'),
    'cubestream.input.kept_bands': json(Array.from(kept)),
    'cubestream.input.kept_wavelengths': json(Array.from(kept, (k) => input.wavelengths[k])),
    'cubestream.outputs': json(facts.outputs),
  };
}
