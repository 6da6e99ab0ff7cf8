import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { selectBands } from '../src/model/band-selection.js';
import { createChunkRunner } from '../src/scoring/onnx/create-chunk-runner.js';
import {
  buildDeepSvddGraph,
  DEEP_SVDD_IO,
  type SelectionStyle,
} from '../src/scoring/onnx/deep-svdd-graph.js';
import { runDeepSvdd } from '../src/scoring/onnx/deep-svdd-run.js';
import { ortSessionOptions } from '../src/scoring/onnx/ort-session.js';
import { syntheticCube } from './synthetic-cube.js';
import { syntheticModel } from './synthetic-model.js';

/**
 * Where the fused graph spends its time, on one xmr block (64x1000x61 uint16) or, with
 * `--shape fx10`, one FX10 block (64x1024x224):
 * 1. onnxruntime's own profile (time per node, mean over runs);
 * 2. a sweep of pixels per run: wall and CPU ms per block (CPU time is the steadier figure on a
 *    machine shared with other work), in this thread (`--workers 0`, `--threads` intra-op
 *    threads) or on `--workers N` worker threads.
 *
 * `node --import tsx bench/profile-onnx.ts [--shape xmr|fx10] [--threads 1] [--workers 0] [--selection ops|matmul] [--runs 20]`
 */
const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    workers: { type: 'string', default: '0' },
    selection: { type: 'string', default: 'ops' },
    runs: { type: 'string', default: '20' },
    shape: { type: 'string', default: 'xmr' },
  },
});
const threads = Number(values.threads);
const workers = Number(values.workers);
const runs = Number(values.runs);
const selection = values.selection as SelectionStyle;

const fx10 = values.shape === 'fx10';
const cube = fx10
  ? syntheticCube({ height: 64, width: 1024, bands: 224, minNm: 400, maxNm: 1000 })
  : syntheticCube({ height: 64, width: 1000, bands: 61, minNm: 430, maxNm: 910 });
const { bands } = cube;
const { params } = syntheticModel(cube.data, cube.wavelengths, { minNm: 700 });
const kept = selectBands(cube.wavelengths, { minNm: 700 });
const pixels = cube.height * cube.width;
const graph = buildDeepSvddGraph(params, { inChannels: bands, kept, inputType: 'uint16', selection });
console.log(`${graph.describe}, ${selection}, ${threads} thread(s), ${pixels} pixels per block`);

// 1. Per-node profile of whole-block runs.
const prefix = join(tmpdir(), `cubestream-ort-profile-${process.pid}`);
const profiled = await InferenceSession.create(
  graph.bytes,
  ortSessionOptions({ threads, profilePrefix: prefix }),
);
const feeds = {
  [DEEP_SVDD_IO.x]: new Tensor('uint16', cube.data, [pixels, bands]),
  [DEEP_SVDD_IO.center]: new Tensor('float32', params.center, [params.center.length]),
  [DEEP_SVDD_IO.tau]: new Tensor('float32', Float32Array.of(1), [1]),
};
for (let i = 0; i < runs; i++) await profiled.run(feeds);
profiled.endProfiling();
await profiled.release();
const profileFile = readdirSync(tmpdir())
  .filter((name) => name.startsWith(`cubestream-ort-profile-${process.pid}`))
  .map((name) => join(tmpdir(), name))[0];
if (profileFile !== undefined) {
  const events = JSON.parse(readFileSync(profileFile, 'utf8')) as {
    cat?: string;
    name: string;
    dur: number;
    args?: { op_name?: string };
  }[];
  const byNode = new Map<string, { op: string; us: number; n: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const node = e.name.slice(0, -'_kernel_time'.length);
    const entry = byNode.get(node) ?? { op: e.args?.op_name ?? '?', us: 0, n: 0 };
    entry.us += e.dur;
    entry.n++;
    byNode.set(node, entry);
  }
  const total = [...byNode.values()].reduce((a, b) => a + b.us / b.n, 0);
  console.log(`\nper node (ms per block, mean of ${runs} runs; total ${(total / 1000).toFixed(1)} ms):`);
  for (const [node, { op, us, n }] of [...byNode].sort((a, b) => b[1].us / b[1].n - a[1].us / a[1].n)) {
    if (us / n < 20) continue;
    console.log(
      `  ${`${op} ${node}`.padEnd(36)} ${(us / n / 1000).toFixed(2).padStart(7)} ms  ${((100 * us) / n / total).toFixed(1).padStart(5)}%`,
    );
  }
  rmSync(profileFile, { force: true });
}

// 2. Pixels per run.
const runner = createChunkRunner({ workers, threads });
console.log(`\npixels per run on ${runner.describe}: best wall ms / best CPU ms per block (8 rounds)`);
for (const chunkPixels of [2048, 4096, 8192, 16384, 32768, pixels]) {
  const input = {
    data: cube.data,
    inputType: 'uint16' as const,
    pixels,
    bands,
    center: params.center,
    tau: 1,
  };
  await runDeepSvdd(runner, 'block', () => graph, input, { chunkPixels });
  let wall = Number.POSITIVE_INFINITY;
  let cpu = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 8; round++) {
    const t = performance.now();
    const c = process.cpuUsage();
    await runDeepSvdd(runner, 'block', () => graph, input, { chunkPixels });
    const used = process.cpuUsage(c);
    wall = Math.min(wall, performance.now() - t);
    cpu = Math.min(cpu, (used.user + used.system) / 1000);
  }
  console.log(
    `  ${String(chunkPixels).padStart(6)}: ${wall.toFixed(1).padStart(6)} ms wall (${(pixels / wall / 1000).toFixed(2)} Mpx/s), ${cpu.toFixed(1).padStart(6)} ms CPU`,
  );
}
await runner.close();
