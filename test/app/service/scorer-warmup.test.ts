/**
 * The warm-up builds and loads the scoring graph on the runner the service's pipeline then
 * uses: the pipeline's first block builds nothing, and the warm-up leaves the runner open.
 */
import { lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createLineScanSimulator } from '../../../connectors/sources/simulator/line-scan-simulator.js';
import { deepSvddPipeline } from '../../../operators/deep-svdd-pipeline.js';
import { resolveDemoModelDir } from '../../../src/app/service/demo-settings.js';
import { pipelineOptions } from '../../../src/app/service/pipeline-options.js';
import { RunConfigSchema } from '../../../src/app/service/run-config.js';
import { warmScorer } from '../../../src/app/service/scorer-warmup.js';
import { validateConfig } from '../../../src/core/validate.js';
import { loadBundle } from '../../../src/model/bundle.js';
import type { ChunkRunner } from '../../../src/scoring/onnx/chunk-runner.js';
import { createChunkRunner } from '../../../src/scoring/onnx/create-chunk-runner.js';

/** A real runner whose graph builds and closes are counted. */
function counted(runner: ChunkRunner): ChunkRunner & { builds: string[]; closes: number } {
  const counter = {
    describe: runner.describe,
    builds: [] as string[],
    closes: 0,
    run: (
      key: string,
      build: Parameters<ChunkRunner['run']>[1],
      request: Parameters<ChunkRunner['run']>[2],
    ) =>
      runner.run(
        key,
        () => {
          counter.builds.push(key);
          return build();
        },
        request,
      ),
    close: () => {
      counter.closes += 1;
      return runner.close();
    },
  };
  return counter;
}

describe.each([0, 2])('warmScorer with %i scoring workers', (workers) => {
  it('loads the graph the pipeline then uses: its first block builds nothing', async () => {
    const bundle = await loadBundle(resolveDemoModelDir());
    const { pipeline: config } = validateConfig(
      RunConfigSchema,
      { source: { kind: 'simulated' }, model: { path: 'unused' }, pipeline: { scorerWorkers: workers } },
      'test',
    );
    const runner = counted(createChunkRunner({ workers, threads: 1, spinning: false }));
    try {
      await warmScorer(bundle, config, runner);
      expect(runner.builds).toHaveLength(1);
      expect(runner.closes).toBe(0);

      const block = createLineScanSimulator({ width: 64, blockRows: 8, seed: 2 }).nextBlock();
      if (block === undefined) throw new Error('no block');
      const decided = await lastValueFrom(
        of(block).pipe(deepSvddPipeline(bundle, pipelineOptions(config, {}, undefined, runner)), toArray()),
      );
      expect(decided).toHaveLength(1);
      expect(runner.builds).toHaveLength(1);
      expect(runner.closes).toBe(0);
    } finally {
      await runner.close();
    }
  });
});
