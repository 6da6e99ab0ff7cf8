import { parseArgs } from 'node:util';
import { selectBands } from '../src/model/band-selection.js';
import { createChunkRunner } from '../src/scoring/onnx/create-chunk-runner.js';
import { buildDeepSvddGraph } from '../src/scoring/onnx/deep-svdd-graph.js';
import { runDeepSvdd } from '../src/scoring/onnx/deep-svdd-run.js';
import { percentile } from './block-runner.js';
import { syntheticCube } from './synthetic-cube.js';
import { syntheticModel } from './synthetic-model.js';

/**
 * Scoring alone, no threshold or decisions: one FX10 block (64x1024x224 uint16, 112 bands kept)
 * scored again and again, back to back and with idle gaps, to separate the scorer's own latency
 * (and this machine's jitter) from the pipeline's. Prints p50 / p90 / max per gap and a JSON line.
 *
 * `node --import tsx bench/paced-scoring.ts [--workers 2] [--blocks 25] [--gaps 0,170,0,170] [--band-prep wasm|graph] [--shared]`
 */
const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    blocks: { type: 'string', default: '25' },
    gaps: { type: 'string', default: '0,170,0,170' },
    'band-prep': { type: 'string', default: 'wasm' },
    shared: { type: 'boolean', default: false },
  },
});
const cube = syntheticCube({ height: 64, width: 1024, bands: 224, minNm: 400, maxNm: 1000 });
const { params } = syntheticModel(cube.data, cube.wavelengths, { minNm: 700 });
const kept = selectBands(cube.wavelengths, { minNm: 700 });
const wasm = values['band-prep'] === 'wasm';
const prep = { lo: kept[0] ?? 0, count: kept.length, unitNorm: params.unitNorm === true, eps: 1e-8 };
const graph = wasm
  ? buildDeepSvddGraph(params, {
      inChannels: kept.length,
      kept: Int32Array.from(kept, (_, i) => i),
      inputType: 'float32',
      prepared: true,
    })
  : buildDeepSvddGraph(params, { inChannels: cube.bands, kept, inputType: 'uint16' });
let data = cube.data;
if (values.shared) {
  data = new Uint16Array(new SharedArrayBuffer(cube.data.byteLength));
  data.set(cube.data);
}
const runner = createChunkRunner({ workers: Number(values.workers), threads: 1 });
const input = {
  data,
  inputType: 'uint16' as const,
  pixels: 65536,
  bands: 224,
  center: params.center,
  tau: 1,
};
const results: { gapMs: number; p50: number; p90: number; max: number }[] = [];
for (const gap of (values.gaps ?? '0').split(',').map(Number)) {
  const times: number[] = [];
  for (let i = 0; i < Number(values.blocks); i++) {
    const t = performance.now();
    await runDeepSvdd(runner, 'block', () => graph, input, wasm ? { prep } : {});
    times.push(performance.now() - t);
    if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
  }
  const kept2 = times.slice(2);
  const row = {
    gapMs: gap,
    p50: percentile(kept2, 0.5),
    p90: percentile(kept2, 0.9),
    max: Math.max(...kept2),
  };
  results.push(row);
  console.error(
    `gap ${String(gap).padStart(4)} ms: p50 ${row.p50.toFixed(1)}  p90 ${row.p90.toFixed(1)}  max ${row.max.toFixed(1)} ms per block`,
  );
}
await runner.close();
console.log(
  JSON.stringify({ runner: runner.describe, bandPrep: values['band-prep'], shared: values.shared, results }),
);
