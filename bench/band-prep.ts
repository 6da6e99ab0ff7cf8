import { parseArgs } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { BandPrepKernel } from '../src/scoring/onnx/kernels/band-prep.js';
import { OnnxGraphBuilder, onnxTypeCode } from '../src/scoring/onnx/onnx-graph-builder.js';
import { ortSessionOptions } from '../src/scoring/onnx/ort-session.js';
import { syntheticCube } from './synthetic-cube.js';

/**
 * Micro-benchmark of the band-prep WebAssembly kernel (band selection + per-pixel unit norm)
 * against the same head as an onnxruntime graph (Slice, Cast, ReduceMean, Sub, ReduceSumSquare,
 * Sqrt, Max(eps), Div; 1 intra-op thread), on one chunk of uint16 pixels: ms per chunk, best of
 * `--runs` after a warm-up. The kernel's figure includes copying the chunk into wasm memory; the
 * copy alone (TypedArray.set, from a plain and from a shared buffer) is printed beside it.
 * Prints a table and one JSON line.
 *
 * `node --import tsx bench/band-prep.ts [--pixels 8192] [--runs 50]`
 */
const { values } = parseArgs({
  options: {
    pixels: { type: 'string', default: '8192' },
    runs: { type: 'string', default: '50' },
  },
});
const pixels = Number(values.pixels);
const runs = Number(values.runs);
if (!Number.isSafeInteger(pixels) || pixels < 1) throw new Error(`--pixels = ${values.pixels}`);
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`--runs = ${values.runs}`);

const EPS = 1e-8;
const CASES = [
  { name: 'fx10 224 -> 112', bands: 224, lo: 112, count: 112, inputType: 'uint16' },
  { name: 'xmr 61 -> 27', bands: 61, lo: 34, count: 27, inputType: 'uint16' },
  { name: 'fx10 f32 input', bands: 224, lo: 112, count: 112, inputType: 'float32' },
] as const;

/** The graph the kernel replaces, as deep-svdd-graph builds it (`ops` selection). */
function headGraph(
  bands: number,
  lo: number,
  count: number,
  unitNorm: boolean,
  inputType: 'uint16' | 'float32',
): Uint8Array {
  const g = new OnnxGraphBuilder('band-prep-head');
  g.input('x', inputType, ['N', bands]);
  const sliced = g.node(
    'Slice',
    ['x', g.ints('starts', [lo]), g.ints('ends', [lo + count]), g.ints('axes', [1])],
    ['sliced'],
  );
  const bandsF =
    inputType === 'uint16'
      ? g.node('Cast', [sliced], ['bands_f32'], { to: onnxTypeCode('float32') })
      : sliced;
  if (!unitNorm) {
    g.output(bandsF, 'float32', ['N', count]);
    return g.toBytes();
  }
  const mean = g.node('ReduceMean', [bandsF], ['pixel_mean'], { axes: [1], keepdims: 1 });
  const centered = g.node('Sub', [bandsF, mean], ['centered']);
  const sq = g.node('ReduceSumSquare', [centered], ['norm_sq'], { axes: [1], keepdims: 1 });
  const norm = g.node('Sqrt', [sq], ['norm']);
  const floor = g.node('Max', [norm, g.scalar('eps', EPS)], ['norm_floor']);
  g.node('Div', [centered, floor], ['unit']);
  g.output('unit', 'float32', ['N', count]);
  return g.toBytes();
}

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Best and median ms of `runs` calls of `fn`. */
async function timeIt(fn: () => unknown | Promise<unknown>): Promise<{ best: number; median: number }> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = nowMs();
    await fn();
    times.push(nowMs() - t0);
  }
  times.sort((a, b) => a - b);
  return { best: times[0]!, median: times[Math.floor(times.length / 2)]! };
}

const results: Record<string, unknown>[] = [];
for (const { name, bands, lo, count, inputType } of CASES) {
  const cube = syntheticCube({
    height: Math.ceil(pixels / 1024),
    width: 1024,
    bands,
    minNm: 400,
    maxNm: 1000,
  });
  const counts = cube.data.subarray(0, pixels * bands);
  // float32 input: the counts as reflectance-like values in [0, 1].
  const input = inputType === 'uint16' ? counts : Float32Array.from(counts, (v) => v / 65_535);
  const shared =
    inputType === 'uint16'
      ? new Uint16Array(new SharedArrayBuffer(input.byteLength))
      : new Float32Array(new SharedArrayBuffer(input.byteLength));
  shared.set(input);
  const scratch = inputType === 'uint16' ? new Uint16Array(input.length) : new Float32Array(input.length);

  for (const unitNorm of [true, false]) {
    const kernel = BandPrepKernel.create();
    const spec = { pixels, bands, lo, count, unitNorm, eps: EPS };
    const t0 = nowMs();
    kernel.prepare(input, spec);
    const firstMs = nowMs() - t0;
    for (let i = 0; i < 20; i++) kernel.prepare(input, spec);
    const kernelMs = await timeIt(() => kernel.prepare(input, spec));
    const kernelSharedMs = await timeIt(() => kernel.prepare(shared, spec));
    const copyMs = await timeIt(() => scratch.set(input as never));
    const copySharedMs = await timeIt(() => scratch.set(shared as never));

    const session = await InferenceSession.create(
      headGraph(bands, lo, count, unitNorm, inputType),
      ortSessionOptions({ threads: 1 }),
    );
    const feeds = {
      x:
        input instanceof Uint16Array
          ? new Tensor('uint16', input, [pixels, bands])
          : new Tensor('float32', input, [pixels, bands]),
    };
    for (let i = 0; i < 5; i++) await session.run(feeds);
    const ortMs = await timeIt(() => session.run(feeds));

    // The two must agree (float32 both; the kernel's mean is exact, the graph's is not).
    const fromGraph = (await session.run(feeds))[session.outputNames[0]!]!.data as Float32Array;
    const fromKernel = kernel.prepare(input, spec);
    let maxDiff = 0;
    for (let i = 0; i < fromGraph.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(fromGraph[i]! - fromKernel[i]!));
    await session.release();

    const row = {
      case: name,
      inputType,
      unitNorm,
      pixels,
      kernelBestMs: kernelMs.best,
      kernelMedianMs: kernelMs.median,
      kernelSharedBestMs: kernelSharedMs.best,
      kernelFirstCallMs: firstMs,
      copyBestMs: copyMs.best,
      copySharedBestMs: copySharedMs.best,
      ortBestMs: ortMs.best,
      ortMedianMs: ortMs.median,
      speedup: ortMs.best / kernelMs.best,
      maxAbsDiff: maxDiff,
    };
    results.push(row);
    console.log(
      `${name.padEnd(16)} unitNorm ${String(unitNorm).padEnd(5)} kernel ${kernelMs.best.toFixed(3)} ms ` +
        `(median ${kernelMs.median.toFixed(3)}, shared input ${kernelSharedMs.best.toFixed(3)}, first call ${firstMs.toFixed(2)}; ` +
        `copy alone ${copyMs.best.toFixed(3)} / shared ${copySharedMs.best.toFixed(3)}) | ` +
        `onnxruntime ${ortMs.best.toFixed(3)} ms (median ${ortMs.median.toFixed(3)}) | x${(ortMs.best / kernelMs.best).toFixed(1)} | ` +
        `max |diff| ${maxDiff.toExponential(1)}`,
    );
  }
}
console.log(JSON.stringify({ bench: 'band-prep', runs, results }));
