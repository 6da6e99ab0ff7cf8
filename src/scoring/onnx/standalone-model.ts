import onnxProto from 'onnx-proto';
import { OnnxGraphError } from './onnx-errors.js';

const { onnx } = onnxProto;

/** Options of {@link standaloneModel}. */
export interface StandaloneModelOptions {
  /**
   * Graph inputs to freeze, by name: each becomes a float32 initializer holding these values
   * (its declared shape must be fixed and fit them) and leaves the graph's inputs.
   */
  readonly constants?: Readonly<Record<string, Float32Array>>;
  /** Written as the model's `metadata_props` (key/value strings), in this order. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** The model's `producer_version` (e.g. the cubestream package version). */
  readonly producerVersion?: string;
  /** The model's `doc_string`. */
  readonly docString?: string;
}

/** The fixed dims of a graph input, or a reason they are not all fixed. */
function fixedDims(input: onnxProto.onnx.IValueInfoProto): number[] | string {
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const out: number[] = [];
  for (const dim of dims) {
    if (dim.dimValue === undefined || dim.dimValue === null)
      return `dim "${dim.dimParam ?? '?'}" is symbolic`;
    out.push(Number(dim.dimValue));
  }
  return out;
}

/**
 * Rewrites serialised `ModelProto` bytes into a self-contained model file: the `constants`
 * inputs are frozen into initializers (so a caller feeds only what is left), and the metadata,
 * producer version and doc string are set. The graph's nodes are untouched: this is packaging,
 * not a second graph builder.
 *
 * @throws {@link OnnxGraphError} when a constant names no graph input, the input's shape is not
 *   fixed, or the values do not fill it
 * @example
 * ```ts
 * import { buildRxGraph } from './rx-graph.js';
 * declare const rx: import('../../model/rx-stats.js').RxModel;
 * const bytes = standaloneModel(buildRxGraph(rx).bytes, { metadata: { 'cubestream.detector': 'rx' } });
 * ```
 */
export function standaloneModel(bytes: Uint8Array, options: StandaloneModelOptions = {}): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (graph === null || graph === undefined) throw new OnnxGraphError('model', 'has no graph');
  graph.input ??= [];
  graph.initializer ??= [];
  const inputs = graph.input;
  const initializers = graph.initializer;
  for (const [name, values] of Object.entries(options.constants ?? {})) {
    const where = `constant ${name}`;
    const index = inputs.findIndex((input) => input.name === name);
    const input = inputs[index];
    if (input === undefined) throw new OnnxGraphError(where, 'is not a graph input');
    const dims = fixedDims(input);
    if (typeof dims === 'string') throw new OnnxGraphError(where, dims);
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) {
      throw new OnnxGraphError(where, `${values.length} values do not fill dims [${dims.join(', ')}]`);
    }
    inputs.splice(index, 1);
    initializers.push(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: onnx.TensorProto.DataType.FLOAT,
        rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice(),
      }),
    );
  }
  model.metadataProps = Object.entries(options.metadata ?? {}).map(([key, value]) =>
    onnx.StringStringEntryProto.create({ key, value }),
  );
  if (options.producerVersion !== undefined) model.producerVersion = options.producerVersion;
  if (options.docString !== undefined) model.docString = options.docString;
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The `metadata_props` of serialised `ModelProto` bytes, as a record (what Python's
 * `session.get_modelmeta().custom_metadata_map` gives; onnxruntime-node does not expose it).
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * const meta = onnxMetadata(await readFile('demo.onnx'));
 * Number(meta['cubestream.threshold']); // τ
 * ```
 */
export function onnxMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnx.ModelProto.decode(bytes);
  return Object.fromEntries(model.metadataProps.map((entry) => [entry.key, entry.value]));
}
