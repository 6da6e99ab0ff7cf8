import type { ModelBundle } from '../../model/bundle.js';
import { deepSvddFromBundle, rxFromBundle } from '../../model/detector-bundle.js';
import { bandPlanner } from './band-plan.js';
import { buildDeepSvddGraph, DEEP_SVDD_IO, type GraphInputType } from './deep-svdd-graph.js';
import { fusedUnsupportedReason } from './fused-support.js';
import { OnnxExportError } from './onnx-export-error.js';
import { onnxExportMetadata } from './onnx-export-metadata.js';
import { DEFAULT_OPSET } from './onnx-graph-builder.js';
import { buildRxGraph } from './rx-graph.js';
import { standaloneModel } from './standalone-model.js';

/** Options of {@link exportOnnx}. */
export interface OnnxExportOptions {
  /**
   * Element type of the input `x` (default float32: spectra in the units the model was trained
   * on). `uint16` takes raw camera counts and casts them in the graph; refused for a model
   * trained on reflectance.
   */
  readonly inputType?: GraphInputType;
  /** Written as the file's `producer_version` (e.g. the cubestream package version). */
  readonly producerVersion?: string;
}

/** A standalone ONNX scoring graph of a bundle, and what it holds. */
export interface OnnxExport {
  /** The `.onnx` file's bytes (a `ModelProto`). */
  readonly bytes: Uint8Array;
  /** Operator set of the default domain (`ai.onnx`). */
  readonly opset: number;
  /** The graph, e.g. `deep-svdd 61->61->128->32 float32`. */
  readonly describe: string;
  /** Element type of `x`. */
  readonly inputType: GraphInputType;
  /** Channels of `x` (`[N, inChannels]`): every band of the bundle's input. */
  readonly inChannels: number;
  /** Indices of the bands the graph uses. */
  readonly kept: Int32Array;
  /** Graph outputs: name -> what it holds. */
  readonly outputs: Readonly<Record<string, string>>;
  /** The file's `metadata_props` (see `onnxExportMetadata`). */
  readonly metadata: Readonly<Record<string, string>>;
}

interface ExportGraph {
  readonly bytes: Uint8Array;
  readonly describe: string;
  readonly kept: Int32Array;
  readonly bandpass?: { readonly minNm: number; readonly maxNm?: number } | undefined;
  readonly constants: Readonly<Record<string, Float32Array>>;
  readonly outputs: Readonly<Record<string, string>>;
}

/**
 * The `pipeline.yaml` stage kinds each detector's fused graph covers. A bundle with any other
 * stage is refused rather than exported without it.
 */
const GRAPH_STAGES: Readonly<Record<string, readonly string[]>> = {
  'deep-svdd': ['bandpass', 'unitNorm', 'zscore', 'whiten', 'project', 'center', 'score'],
  rx: ['rx'],
};

/** Why the bundle's stages are not all in its detector's graph, or undefined when they are. */
function uncoveredStages(bundle: ModelBundle): string | undefined {
  const { detector, stages } = bundle.manifest;
  const covered = GRAPH_STAGES[detector];
  if (covered === undefined) return `detector "${detector}" has no fused graph (deep-svdd and rx have)`;
  const extra = stages.map((stage) => stage.kind).filter((kind) => !covered.includes(kind));
  if (extra.length > 0) return `pipeline.yaml stages ${extra.join(', ')} are not in the fused graph`;
  const metric = stages.find((stage) => stage.kind === 'score')?.metric;
  if (metric !== undefined && metric !== 'squared-distance') {
    return `score metric ${JSON.stringify(metric)} is not in the fused graph (squared-distance is)`;
  }
  return undefined;
}

const SCORES_DOC = '[N] float32: the anomaly score of each pixel';

function deepSvddGraph(bundle: ModelBundle, inputType: GraphInputType): ExportGraph {
  const params = deepSvddFromBundle(bundle);
  const unsupported = fusedUnsupportedReason(params);
  if (unsupported !== undefined) throw new OnnxExportError(bundle.manifest.version, unsupported);
  const plan = bandPlanner({
    bandpass: params.bandpass,
    expected: params.zscore.mean.length,
    countStage: 'zscoreNormalize',
  })(params.wavelengthsNm, params.wavelengthUnits ?? 'nm');
  const graph = buildDeepSvddGraph(params, { inChannels: plan.inChannels, kept: plan.kept, inputType });
  return {
    bytes: graph.bytes,
    describe: graph.describe,
    kept: plan.kept,
    bandpass: params.bandpass,
    // Frozen to the bundle's centre and τ: the caller feeds x only.
    constants: {
      [DEEP_SVDD_IO.center]: params.center,
      [DEEP_SVDD_IO.tau]: Float32Array.of(bundle.calibration.threshold),
    },
    outputs: {
      [DEEP_SVDD_IO.scores]: `${SCORES_DOC}, ||z - c||^2 (docs/maths.md §3.6)`,
      [DEEP_SVDD_IO.zsumNormal]: `[${graph.rep}] float32: sum of the embeddings z of the pixels with scores < threshold`,
      [DEEP_SVDD_IO.nNormal]: '[1] float32: how many pixels have scores < threshold',
    },
  };
}

function rxGraph(bundle: ModelBundle, inputType: GraphInputType): ExportGraph {
  const graph = buildRxGraph(rxFromBundle(bundle).rx, { inputType });
  return {
    bytes: graph.bytes,
    describe: graph.describe,
    kept: Int32Array.from({ length: graph.bands }, (_, i) => i),
    constants: {},
    outputs: { scores: `${SCORES_DOC}, the RX Mahalanobis distance (docs/maths.md §3.10)` },
  };
}

/**
 * The fused scoring graph of a bundle as a standalone ONNX file (opset 17, IR 8): the graph
 * onnxruntime scores with in the service (`buildDeepSvddGraph`, or `buildRxGraph` for RX), with
 * the Deep SVDD centre and the calibrated τ frozen in, so the one input is `x [N, bands]`
 * (every band of the bundle's input, pixel-major; the graph selects its bands), and the
 * calibration, wavelengths, model version and input layout in `metadata_props`
 * (docs/export.md).
 *
 * @throws {@link OnnxExportError} for a detector or stage the fused graph does not cover, or
 *   uint16 input for a model trained on reflectance
 * @throws `BundleError` / `ModelParamsError` for a bundle whose weights do not fit its stages
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * const exported = exportOnnx(bundle, { inputType: 'float32' });
 * await writeFile('model.onnx', exported.bytes);
 * exported.metadata['cubestream.model_version']; // bundle.manifest.version
 * ```
 */
export function exportOnnx(
  bundle: ModelBundle & { readonly weightsSha256?: string },
  options: OnnxExportOptions = {},
): OnnxExport {
  const { version, detector, input } = bundle.manifest;
  const inputType = options.inputType ?? 'float32';
  if (inputType === 'uint16' && input.radiometry === 'reflectance') {
    throw new OnnxExportError(
      version,
      'uint16 input is for raw counts, but the model was trained on reflectance (export float32 input)',
    );
  }
  const uncovered = uncoveredStages(bundle);
  if (uncovered !== undefined) throw new OnnxExportError(version, uncovered);
  const graph = detector === 'rx' ? rxGraph(bundle, inputType) : deepSvddGraph(bundle, inputType);
  const metadata = onnxExportMetadata({
    manifest: bundle.manifest,
    calibration: bundle.calibration,
    weightsSha256: bundle.weightsSha256,
    describe: graph.describe,
    opset: DEFAULT_OPSET,
    inputType,
    kept: graph.kept,
    bandpass: graph.bandpass,
    outputs: graph.outputs,
  });
  const bytes = standaloneModel(graph.bytes, {
    constants: graph.constants,
    metadata,
    ...(options.producerVersion === undefined ? {} : { producerVersion: options.producerVersion }),
    docString: `cubestream ${detector} scoring graph of model ${version}; see metadata_props and docs/export.md`,
  });
  return {
    bytes,
    opset: DEFAULT_OPSET,
    describe: graph.describe,
    inputType,
    inChannels: input.bands,
    kept: graph.kept,
    outputs: graph.outputs,
    metadata,
  };
}
