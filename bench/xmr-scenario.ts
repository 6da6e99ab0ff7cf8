import type { DecidedFrame } from '../src/core/decision.js';
import type { Uint16CubeFrame } from '../src/scoring/onnx/uint16-frame.js';
import { BlockRunner, nowMs, RssSampler, StageClock } from './block-runner.js';
import { type BenchEngine, type PipelineOptions, scoringPipeline } from './pipelines.js';
import { type ScenarioResult, scenarioResult } from './scenario-result.js';
import type { SyntheticCube } from './synthetic-cube.js';

/** Rows per block for the snapshot camera (docs/architecture.md §2). */
export const XMR_BLOCK_ROWS = 64;

/** Row blocks of a cube as zero-copy views, identity filled in (capturedAt set when emitted). */
export function cubeBlocks(
  cube: SyntheticCube,
  cameraId: string,
  frameId: number,
  rows: number,
): Uint16CubeFrame[] {
  const stride = cube.width * cube.bands;
  const blocks: Uint16CubeFrame[] = [];
  for (let start = 0; start < cube.height; start += rows) {
    const height = Math.min(rows, cube.height - start);
    blocks.push({
      cameraId,
      frameId,
      rowOffset: start,
      totalRows: cube.height,
      capturedAt: 0,
      timings: {},
      height,
      width: cube.width,
      bands: cube.bands,
      wavelengths: cube.wavelengths,
      wavelengthUnits: 'nm',
      data: cube.data.subarray(start * stride, (start + height) * stride),
    });
  }
  return blocks;
}

/**
 * `xmr`: 1080x1000x61 uint16 snapshot cubes cut into 64-row blocks, scored and decided as fast
 * as possible, one block in flight (so each block's latency is its own processing time).
 * Two warm-up blocks go first (session creation, JIT) and are not counted.
 */
export async function runXmr(
  engine: BenchEngine,
  cubes: readonly SyntheticCube[],
  options: PipelineOptions,
): Promise<ScenarioResult> {
  const clock = new StageClock();
  const runner = new BlockRunner<Uint16CubeFrame, DecidedFrame>(scoringPipeline(engine, clock, options));
  const first = cubes[0];
  if (first === undefined) throw new Error('xmr needs at least one cube');
  for (const block of cubeBlocks(first, 'xmr', 0, XMR_BLOCK_ROWS).slice(0, 2)) {
    await runner.run({ ...block, capturedAt: nowMs() });
  }
  const warmClock = clock.perBlock(1);
  const rss = new RssSampler();
  const latencies: number[] = [];
  let pixels = 0;
  const began = nowMs();
  for (const [i, cube] of cubes.entries()) {
    for (const block of cubeBlocks(cube, 'xmr', i + 1, XMR_BLOCK_ROWS)) {
      const capturedAt = nowMs();
      await runner.run({ ...block, capturedAt });
      latencies.push(nowMs() - capturedAt);
      pixels += block.height * block.width;
      rss.sample();
    }
  }
  const seconds = (nowMs() - began) / 1000;
  const peakRssMb = rss.stop();
  await runner.close();
  return scenarioResult({
    name: 'xmr',
    engine,
    pixels,
    seconds: seconds,
    latencies,
    peakRssMb,
    dropped: 0,
    stageTotals: clock.perBlock(1),
    warmStageTotals: warmClock,
  });
}
