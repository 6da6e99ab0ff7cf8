import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChunkRunRequest } from '../../../src/scoring/onnx/chunk-runner.js';
import { OnnxRuntimeError } from '../../../src/scoring/onnx/onnx-errors.js';
import { chunkPlan, gridPlan, OrtWorkerPool } from '../../../src/scoring/onnx/pool/ort-worker-pool.js';
import { buildRxGraph } from '../../../src/scoring/onnx/rx-graph.js';
import { SessionChunkRunner } from '../../../src/scoring/onnx/session-chunk-runner.js';

const execFileAsync = promisify(execFile);

const BANDS = 5;

/** RX with Σ⁺ = diag(1..5) and μ = 100: score = Σ_i (i+1)(x_i - 100)². */
function rxGraph(inputType: 'float32' | 'uint16') {
  const covInverse = new Float64Array(BANDS * BANDS);
  for (let i = 0; i < BANDS; i++) covInverse[i * BANDS + i] = i + 1;
  return buildRxGraph({ bands: BANDS, mean: new Float64Array(BANDS).fill(100), covInverse }, { inputType });
}

function expected(data: ArrayLike<number>, pixels: number): Float32Array {
  return Float32Array.from({ length: pixels }, (_, p) => {
    let s = 0;
    for (let i = 0; i < BANDS; i++) s += (i + 1) * ((data[p * BANDS + i] ?? 0) - 100) ** 2;
    return s;
  });
}

/** Scores within float32 rounding of the float64 expectation. */
function expectScores(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => {
    expect(Math.abs(v - (want[i] ?? Number.NaN)), `pixel ${i}`).toBeLessThanOrEqual(
      1e-5 * Math.abs(want[i] ?? 0) + 1e-3,
    );
  });
}

function request(data: Float32Array | Uint16Array, chunkPixels: number, bands = BANDS): ChunkRunRequest {
  return {
    data,
    inputType: data instanceof Uint16Array ? 'uint16' : 'float32',
    pixels: data.length / bands,
    bands,
    chunkPixels,
    inputName: 'x',
    scoresName: 'scores',
    feeds: {},
    outputs: [],
  };
}

const counts = (pixels: number): Uint16Array =>
  Uint16Array.from({ length: pixels * BANDS }, (_, i) => 90 + ((i * 7919) % 23));

describe('OrtWorkerPool', () => {
  let pool: OrtWorkerPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('scores a block in chunks on both workers, scores in pixel order, as one in-thread session does', async () => {
    pool = new OrtWorkerPool({ workers: 2 });
    const graph = rxGraph('uint16');
    await pool.load('rx|uint16', graph.bytes, graph.describe);
    const data = counts(1001);
    const pooled = await pool.runChunks({ ...request(data, 64), key: 'rx|uint16' });
    expectScores(pooled.scores, expected(data, 1001));
    expect(pooled.chunkOutputs).toHaveLength(Math.ceil(1001 / 64));
    expect(pool.chunksPerWorker.every((n) => n > 0)).toBe(true);
    const session = new SessionChunkRunner({ threads: 1 });
    const single = await session.run('rx', () => graph, request(data, 64));
    await session.close();
    expect(pooled.scores).toEqual(single.scores);
  });

  it('cuts a block for its workers (guided: big chunks, then a shrinking tail), and runs float32 graphs too', async () => {
    expect(chunkPlan(64_000, 8192, 2).map((c) => c.pixels)).toEqual([
      8192, 8192, 8192, 8192, 8192, 8192, 7424, 3712, 1856, 1024, 832,
    ]);
    expect(chunkPlan(3000, 8192, 2).map((c) => c.pixels)).toEqual([1500, 1500]);
    expect(chunkPlan(10, 8192, 2)).toEqual([{ start: 0, pixels: 10 }]);
    const spans = chunkPlan(65_536, 4096, 2);
    expect(spans.reduce((n, c) => n + c.pixels, 0)).toBe(65_536);
    spans.forEach((c, i) => {
      expect(c.start).toBe(i === 0 ? 0 : (spans[i - 1]?.start ?? 0) + (spans[i - 1]?.pixels ?? 0));
    });
    pool = new OrtWorkerPool({ workers: 2 });
    const graph = rxGraph('float32');
    await pool.load('rx|f32', graph.bytes, graph.describe);
    const data = Float32Array.from(counts(3000));
    const { scores, chunkOutputs } = await pool.runChunks({ ...request(data, 8192), key: 'rx|f32' });
    expect(chunkOutputs).toHaveLength(2);
    expectScores(scores, expected(data, 3000));
    // On a grid instead: chunks of exactly chunkPixels from the first pixel.
    expect(gridPlan(10_000, 4096).map((c) => [c.start, c.pixels])).toEqual([
      [0, 4096],
      [4096, 4096],
      [8192, 1808],
    ]);
    const gridded = await pool.runChunks({ ...request(data, 1024), key: 'rx|f32', grid: true });
    expect(gridded.chunkOutputs).toHaveLength(3);
    expect(gridded.scores).toEqual(scores);
  });

  it('reads a block held in shared memory in place (each worker copies its own chunks)', async () => {
    pool = new OrtWorkerPool({ workers: 2 });
    const graph = rxGraph('uint16');
    await pool.load('rx', graph.bytes, graph.describe);
    const plain = counts(2500);
    // A block view at an offset inside a larger shared buffer, as a camera ring buffer would hold it.
    const shared = new Uint16Array(new SharedArrayBuffer((plain.length + 6) * 2), 6 * 2, plain.length);
    shared.set(plain);
    const fromShared = await pool.runChunks({ ...request(shared, 300), key: 'rx' });
    const fromPlain = await pool.runChunks({ ...request(plain, 300), key: 'rx' });
    expect(fromShared.scores).toEqual(fromPlain.scores);
    expectScores(fromShared.scores, expected(plain, 2500));
  });

  it('fails a run with an OnnxRuntimeError naming the graph and keeps serving', async () => {
    pool = new OrtWorkerPool({ workers: 2 });
    const graph = rxGraph('uint16');
    await pool.load('rx', graph.bytes, graph.describe);
    const wrong = Uint16Array.from({ length: 6 * 40 }, () => 100);
    const failed = pool.runChunks({ ...request(wrong, 8, 6), key: 'rx' });
    await expect(failed).rejects.toBeInstanceOf(OnnxRuntimeError);
    await expect(failed).rejects.toThrow(/onnxruntime run failed for rx 5 .*uint16/);
    const data = counts(50);
    expectScores((await pool.runChunks({ ...request(data, 8), key: 'rx' })).scores, expected(data, 50));
  });

  it('rejects a graph onnxruntime cannot load, by name, and forgets it', async () => {
    pool = new OrtWorkerPool({ workers: 1 });
    const load = pool.load('bad', Uint8Array.of(1, 2, 3), 'broken graph');
    await expect(load).rejects.toThrow(/onnxruntime create failed for broken graph/);
    expect(pool.has('bad')).toBe(false);
    await expect(pool.runChunks({ ...request(counts(4), 8), key: 'bad' })).rejects.toThrow(
      /graph not loaded/,
    );
  });

  it('replaces a worker that dies: its chunks fail, the next block runs on a fresh worker', async () => {
    pool = new OrtWorkerPool({ workers: 2 });
    const graph = rxGraph('uint16');
    await pool.load('rx', graph.bytes, graph.describe);
    const data = counts(4000);
    const running = pool.runChunks({ ...request(data, 100), key: 'rx' });
    await pool.terminateWorker(0);
    await expect(running).rejects.toThrow(/onnxruntime run failed for rx 5/);
    const after = await pool.runChunks({ ...request(data, 100), key: 'rx' });
    expectScores(after.scores, expected(data, 4000));
    expect(pool.chunksPerWorker.every((n) => n > 0)).toBe(true);
  });

  it('finishes the blocks in flight on close, then refuses new ones', async () => {
    pool = new OrtWorkerPool({ workers: 2 });
    const graph = rxGraph('uint16');
    await pool.load('rx', graph.bytes, graph.describe);
    const data = counts(3000);
    const running = pool.runChunks({ ...request(data, 100), key: 'rx' });
    const closing = pool.close();
    expectScores((await running).scores, expected(data, 3000));
    await closing;
    await expect(pool.runChunks({ ...request(data, 100), key: 'rx' })).rejects.toThrow(/closed/);
  });

  it('refuses a worker count below 1', () => {
    expect(() => new OrtWorkerPool({ workers: 0 })).toThrow(/workers = 0 must be an integer >= 1/);
  });
});

describe('OrtWorkerPool idle workers', () => {
  it('are warmed by ready() and let the process exit without a close', async () => {
    const pool = new OrtWorkerPool({ workers: 2 });
    await pool.ready();
    expect(pool.chunksPerWorker).toEqual([0, 0]);
    await pool.close();
    // A process that scores on a pool and then has nothing left to do exits by itself.
    const script = [
      "import { OrtWorkerPool } from './src/scoring/onnx/pool/ort-worker-pool.ts';",
      "import { buildRxGraph } from './src/scoring/onnx/rx-graph.ts';",
      'const pool = new OrtWorkerPool({ workers: 2 });',
      'const g = buildRxGraph({ bands: 1, mean: new Float64Array(1), covInverse: Float64Array.of(1) });',
      "await pool.load('rx', g.bytes, g.describe);",
      "const { scores } = await pool.runChunks({ key: 'rx', data: Float32Array.of(1, 2, 3), inputType: 'float32', pixels: 3, bands: 1, chunkPixels: 2, inputName: 'x', scoresName: 'scores', feeds: {}, outputs: [] });",
      'console.log(JSON.stringify(Array.from(scores)));',
    ].join('\n');
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: process.cwd(),
        timeout: 30_000,
      },
    );
    expect(JSON.parse(stdout.trim())).toEqual([1, 4, 9]);
  });
});
