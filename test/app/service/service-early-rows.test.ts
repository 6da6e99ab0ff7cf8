import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, map, Subject, timer, toArray, zip } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDecision } from '../../../connectors/codec/decision-json.js';
import { createLineScanSimulator } from '../../../connectors/sources/simulated-line-scan.js';
import { deepSvddPipeline } from '../../../operators/deep-svdd-pipeline.js';
import { resolveDemoModelDir } from '../../../src/app/service/demo-settings.js';
import { pipelineOptions } from '../../../src/app/service/pipeline-options.js';
import { type RunConfig, RunConfigSchema } from '../../../src/app/service/run-config.js';
import { startService } from '../../../src/app/service/service.js';
import type { Decision } from '../../../src/core/decision.js';
import type { CubeFrame } from '../../../src/core/frame.js';
import type { RowsReady } from '../../../src/core/rows-ready.js';
import { validateConfig } from '../../../src/core/validate.js';
import { loadBundle } from '../../../src/model/bundle.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { parsePromText, promValue } from './prom-text.js';

const logger = createLogger({ level: 'silent' });
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-early-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SOURCE = {
  kind: 'simulated',
  width: 256,
  blockRows: 64,
  // A block every 200 ms: scoring one takes a few ms, so even a machine several times
  // overloaded keeps up and has the scorer idle while lines come in (early rows need that).
  linesPerSecond: 320,
  maxBlocks: 16,
  seed: 5,
  anomalyRate: 0.05,
} as const;

function configOf(earlyRows: boolean, file: string, viewer: boolean): RunConfig {
  return validateConfig(
    RunConfigSchema,
    {
      source: SOURCE,
      model: { path: resolveDemoModelDir() },
      // A queue longer than the run: a busy machine delays blocks but never drops one.
      // A queue longer than the run: a busy machine delays blocks but never drops one.
      pipeline: { earlyRows, backpressure: { capacity: 64 } },
      sinks: { file: { path: file } },
      metrics: { port: 0, host: '127.0.0.1' },
      viewer: viewer ? { enabled: true, port: 0, host: '127.0.0.1' } : { enabled: false },
    },
    'test',
  );
}

/** Runs the demo model on a paced simulated camera (256 px x 64-line blocks) to its end. */
async function run(
  earlyRows: boolean,
  viewer = false,
): Promise<{ decisions: Decision[]; early: number; scored: number }> {
  const file = join(dir, `decisions-${earlyRows}.jsonl`);
  const config = configOf(earlyRows, file, viewer);
  const service = await startService(config, { logger });
  expect(service.earlyRows).toBe(earlyRows);
  const outcome = await service.done;
  expect(outcome).toMatchObject({ code: 0, frames: 16, decisions: 16, dropped: 0 });
  const samples = parsePromText(await service.metrics.registry.metrics());
  const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
  return {
    decisions: lines.map((line) => parseDecision(line)),
    early: promValue(samples, 'cubestream_pixels_scored_early_total', { camera: 'cam0' }) ?? 0,
    scored: promValue(samples, 'cubestream_pixels_scored_total') ?? 0,
  };
}

describe('service with a line-scan source that publishes rows', () => {
  it('scores most pixels while their block is captured, with the same decisions as whole blocks', async () => {
    const early = await run(true);
    const whole = await run(false);
    expect(whole.early).toBe(0);
    expect(early.scored).toBe(16 * 64 * 256);
    // Chunks of 2,048 px (8 lines) are scored as lines come in: all but the last few lines of each block.
    expect(early.early).toBeGreaterThan(0.25 * early.scored);
    expect(early.decisions.some((d) => d.anomalous)).toBe(true);
    expect(early.decisions.map((d) => [d.frameId, d.rowOffset])).toEqual(
      whole.decisions.map((d) => [d.frameId, d.rowOffset]),
    );
    for (const [i, d] of early.decisions.entries()) {
      const ref = whole.decisions[i] as Decision;
      // Whole blocks go through the pool's guided chunk plan, early rows through a fixed grid: the
      // centre's chunk sums round differently in float32, the rest is the same.
      expect(d.threshold).toBeCloseTo(ref.threshold, 4);
      expect(d.maxScore).toBeCloseTo(ref.maxScore, 3);
      expect([d.anomalous, d.anomalousPixels]).toEqual([ref.anomalous, ref.anomalousPixels]);
      expect(d.blobs.map((b) => [b.x, b.y, b.w, b.h, b.area])).toEqual(
        ref.blobs.map((b) => [b.x, b.y, b.w, b.h, b.area]),
      );
    }
  });

  it("hands each block's buffer back to the simulator once decided and drawn, deciding as with fresh buffers", async () => {
    // The service, viewer on: the simulator reuses the buffers of decided blocks...
    const served = await run(true, true);
    // ...against the same pipeline fed blocks in buffers of their own.
    const config = configOf(true, join(dir, 'unused.jsonl'), false);
    const { kind: _kind, ...simOptions } = SOURCE;
    const simulator = createLineScanSimulator({ ...simOptions, linesPerSecond: undefined });
    const blocks: CubeFrame[] = [];
    for (let block = simulator.nextFrame(); block !== undefined; block = simulator.nextFrame())
      blocks.push(block);
    const bundle = await loadBundle(resolveDemoModelDir());
    const direct = await lastValueFrom(
      zip(from(blocks), timer(0, 30)).pipe(
        map(([block]) => block), // paced: the pipeline's drop-oldest queue keeps every block

        deepSvddPipeline(bundle, pipelineOptions(config.pipeline, {}, new Subject<RowsReady>())),
        toArray(),
      ),
    );
    expect(served.decisions).toHaveLength(16);
    expect(served.decisions.map((d) => [d.threshold, d.maxScore, d.anomalousPixels, d.blobs.length])).toEqual(
      direct.map(({ decision: d }) => [d.threshold, d.maxScore, d.anomalousPixels, d.blobs.length]),
    );
  });
});
