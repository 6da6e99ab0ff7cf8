import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxGraphError, OnnxRuntimeError } from '../../../src/scoring/onnx/onnx-errors.js';
import { OnnxGraphBuilder } from '../../../src/scoring/onnx/onnx-graph-builder.js';
import { createOrtSession, ortSessionOptions } from '../../../src/scoring/onnx/ort-session.js';

describe('OnnxGraphBuilder', () => {
  it('serialises a graph that onnxruntime runs: y = relu(x·W + b), with a symbolic batch dimension', async () => {
    const g = new OnnxGraphBuilder('tiny');
    g.input('x', 'float32', ['N', 2]);
    const w = g.initializer('w', Float32Array.of(1, -1, 2, 3), [2, 2]);
    const b = g.initializer('b', Float32Array.of(0.5, -10), [2]);
    const h = g.node('Gemm', ['x', w, b], ['h']);
    g.node('Relu', [h], ['y']);
    g.output('y', 'float32', ['N', 2]);
    const session = await createOrtSession(g.toBytes(), { threads: 1 });
    try {
      const out = await session.run({ x: new Tensor('float32', Float32Array.of(1, 1, 2, 0, 0, 5), [3, 2]) });
      // rows: [1+2+.5, -1+3-10] = [3.5, 0]; [2.5, -2-10 -> 0]; [10.5, 15-10 = 5]
      expect(Array.from(out.y?.data as Float32Array)).toEqual([3.5, 0, 2.5, 0, 10.5, 5]);
      expect(session.inputNames).toEqual(['x']);
    } finally {
      await session.release();
    }
  });

  it('casts uint16 inputs and takes int64 constants (Slice on the channel axis)', async () => {
    const g = new OnnxGraphBuilder();
    g.input('x', 'uint16', ['N', 4]);
    const s = g.node('Slice', ['x', g.ints('starts', [1]), g.ints('ends', [3]), g.ints('axes', [1])], ['s']);
    g.node('Cast', [s], ['y'], { to: 1 });
    g.output('y', 'float32', ['N', 2]);
    const session = await createOrtSession(g.toBytes(), { threads: 1 });
    try {
      const out = await session.run({
        x: new Tensor('uint16', Uint16Array.of(1, 2, 3, 4, 65535, 6, 7, 8), [2, 4]),
      });
      expect(Array.from(out.y?.data as Float32Array)).toEqual([2, 3, 6, 7]);
    } finally {
      await session.release();
    }
  });

  it('names the node or value at fault when a graph is malformed', () => {
    const g = new OnnxGraphBuilder();
    g.input('x', 'float32', [2]);
    expect(() => g.node('Relu', ['nope'], ['y'])).toThrow(/node Relu#0: input "nope" is not defined/);
    expect(() => g.node('Relu', ['x'], ['x'])).toThrow(OnnxGraphError);
    expect(() => g.initializer('w', new Float32Array(5), [2, 3])).toThrow(
      /initializer w: 5 values do not fill dims \[2, 3\]/,
    );
    expect(() => g.output('z', 'float32', [2])).toThrow(/output z: is not defined/);
    expect(() => g.node('Gemm', ['x'], ['y'], { alpha: 0.5 })).toThrow(
      /attribute alpha: 0.5 is not an integer/,
    );
  });
});

describe('createOrtSession', () => {
  it('wraps onnxruntime’s refusal of a model in OnnxRuntimeError (phase create) naming the graph', async () => {
    const g = new OnnxGraphBuilder();
    g.input('x', 'float32', [2]);
    g.node('NoSuchOp', ['x'], ['y']);
    g.output('y', 'float32', [2]);
    const error = await createOrtSession(g.toBytes(), { describe: 'broken graph' }).catch((e) => e);
    expect(error).toBeInstanceOf(OnnxRuntimeError);
    expect(error).toMatchObject({ phase: 'create', model: 'broken graph', code: 'onnx_runtime' });
    expect(error.message).toMatch(/NoSuchOp/);
  });

  it('uses 2 intra-op threads, 1 inter-op thread, all optimisations, sequential execution by default', () => {
    expect(ortSessionOptions()).toEqual({
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    });
    expect(() => ortSessionOptions({ threads: 0 })).toThrow(/threads = 0 must be >= 1/);
  });
});
