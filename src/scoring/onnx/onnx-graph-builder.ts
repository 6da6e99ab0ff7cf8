import onnxProto from 'onnx-proto';
import { OnnxGraphError } from './onnx-errors.js';

const { onnx } = onnxProto;

/** Element types the cubestream graphs use, named as onnxruntime-node names them. */
export type OnnxElementType = 'float32' | 'uint16' | 'int64' | 'bool';

/** A dimension: a fixed size, or a symbolic name (e.g. `N` for the pixel count). */
export type OnnxDim = number | string;

/** An attribute value: an int, a float, or a list of ints. */
export type OnnxAttribute = number | readonly number[] | { readonly float: number };

/** Default operator set: opset 17 (ONNX 1.12), where reductions other than ReduceSum take `axes` as an attribute. */
export const DEFAULT_OPSET = 17;

const ELEMENT_TYPES: Readonly<Record<OnnxElementType, number>> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  uint16: onnx.TensorProto.DataType.UINT16,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** The ONNX `TensorProto.DataType` code of an element type (e.g. for a `Cast` node's `to`). */
export function onnxTypeCode(type: OnnxElementType): number {
  return ELEMENT_TYPES[type];
}

function valueInfo(
  name: string,
  type: OnnxElementType,
  dims: readonly OnnxDim[],
): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPES[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: OnnxAttribute): onnxProto.onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new OnnxGraphError(`attribute ${name}`, `${value} is not an integer`);
    return { name, type: AttributeType.INT, i: value };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.INTS, ints: [...value] };
}

/**
 * Builds an ONNX `ModelProto` in memory, node by node, checking as it goes that every node
 * input is a graph input, an initializer or an earlier node's output (ONNX wants nodes in
 * topological order) and that initializer data fits its dims. `toBytes()` serialises it with
 * onnx-proto for `InferenceSession.create(bytes)`.
 *
 * @example
 * ```ts
 * import { InferenceSession } from 'onnxruntime-node';
 * const g = new OnnxGraphBuilder();
 * g.input('x', 'float32', ['N', 3]);
 * g.initializer('w', Float32Array.of(1, 2, 3), [3, 1]);
 * g.node('MatMul', ['x', 'w'], ['y']);
 * g.output('y', 'float32', ['N', 1]);
 * const session = await InferenceSession.create(g.toBytes());
 * ```
 */
export class OnnxGraphBuilder {
  readonly #inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #outputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #initializers: onnxProto.onnx.ITensorProto[] = [];
  readonly #nodes: onnxProto.onnx.INodeProto[] = [];
  readonly #defined = new Set<string>();
  #counter = 0;

  /** @param name - the graph's name, kept in the model (shows up in onnxruntime profiles) */
  constructor(readonly name = 'cubestream') {}

  #define(name: string, where: string): void {
    if (name.length === 0) throw new OnnxGraphError(where, 'value name is empty');
    if (this.#defined.has(name)) throw new OnnxGraphError(where, `value "${name}" is defined twice`);
    this.#defined.add(name);
  }

  /** Declares a graph input. */
  input(name: string, type: OnnxElementType, dims: readonly OnnxDim[]): string {
    this.#define(name, `input ${name}`);
    this.#inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /**
   * Adds a constant tensor (float32 or int64), stored as little-endian raw bytes.
   *
   * @throws {@link OnnxGraphError} when `values.length` is not the product of `dims`
   */
  initializer(name: string, values: Float32Array | BigInt64Array, dims: readonly number[]): string {
    const where = `initializer ${name}`;
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) {
      throw new OnnxGraphError(where, `${values.length} values do not fill dims [${dims.join(', ')}]`);
    }
    this.#define(name, where);
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
    this.#initializers.push({
      name,
      dims: [...dims],
      dataType: values instanceof Float32Array ? ELEMENT_TYPES.float32 : ELEMENT_TYPES.int64,
      rawData: bytes,
    });
    return name;
  }

  /** Adds an int64 constant (shapes, axes, indices). */
  ints(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer(
      name,
      BigInt64Array.from(values, (v) => BigInt(v)),
      dims,
    );
  }

  /** Adds a float32 constant of dims `[]` (a scalar) or `[1]`. */
  scalar(name: string, value: number, dims: readonly number[] = []): string {
    return this.initializer(name, Float32Array.of(value), dims);
  }

  /**
   * Appends a node. Returns its first output's name (handy to chain).
   *
   * @throws {@link OnnxGraphError} when an input is not defined yet or an output name is taken
   */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Readonly<Record<string, OnnxAttribute>> = {},
  ): string {
    const name = `${opType}#${this.#counter++}`;
    for (const input of inputs) {
      // An empty name is ONNX's way to skip an optional input.
      if (input !== '' && !this.#defined.has(input)) {
        throw new OnnxGraphError(`node ${name}`, `input "${input}" is not defined`);
      }
    }
    if (outputs.length === 0) throw new OnnxGraphError(`node ${name}`, 'has no output');
    for (const output of outputs) this.#define(output, `node ${name}`);
    this.#nodes.push({
      name,
      opType,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return outputs[0] as string;
  }

  /**
   * Declares a graph output (an input, initializer or node output of that name must exist).
   *
   * @throws {@link OnnxGraphError} when nothing defines `name`
   */
  output(name: string, type: OnnxElementType, dims: readonly OnnxDim[]): string {
    if (!this.#defined.has(name)) throw new OnnxGraphError(`output ${name}`, 'is not defined');
    this.#outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Serialises the model (IR version 8, the given opset of the default domain). */
  toBytes(opset: number = DEFAULT_OPSET): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'cubestream',
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: this.name,
        node: this.#nodes,
        input: this.#inputs,
        output: this.#outputs,
        initializer: this.#initializers,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
