/**
 * The warm-up starts the scorer's workers and builds and loads the scoring graph on the scorer
 * the service's pipeline then uses: the pipeline's first block builds nothing, and neither the
 * warm-up nor the pipeline closes the scorer (its owner does).
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
import { createScorer, type Scorer } from '../../../src/scoring/scorer.js';

/** A real runner whose graph builds and closes are counted. */
function counted(runner: ChunkRunner): ChunkRunner & { builds: string[]; closes: number } {
  const counter = {
    describe: runner.describe,
    builds: [] as string[],
    closes: 0,
    ready: () => runner.ready(),
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
  it('starts the workers and loads the graph the pipeline then uses: its first block builds nothing', async () => {
    const bundle = await loadBundle(resolveDemoModelDir());
    const { pipeline: config } = validateConfig(
      RunConfigSchema,
      { source: { kind: 'simulated' }, model: { path: 'unused' }, pipeline: { scorerWorkers: workers } },
      'test',
    );
    const made = createScorer(bundle, { engine: 'onnx', workers, threads: 1 });
    if (made.runner === undefined) throw new Error('no onnx runner');
    const runner = counted(made.runner);
    let warmed = 0;
    let closed = 0;
    const scorer: Scorer = {
      ...made,
      runner,
      warm: () => {
        warmed += 1;
        return made.warm();
      },
      close: () => {
        closed += 1;
        return made.close();
      },
    };
    expect(scorer.workers).toBe(workers);
    try {
      await warmScorer(bundle, config, scorer);
      expect(warmed).toBe(1);
      expect(runner.builds).toHaveLength(1);
      expect([runner.closes, closed]).toEqual([0, 0]);

      const block = createLineScanSimulator({ width: 64, blockRows: 8, seed: 2 }).nextFrame();
      if (block === undefined) throw new Error('no block');
      const decided = await lastValueFrom(
        of(block).pipe(deepSvddPipeline(bundle, pipelineOptions(config, {}, undefined, scorer)), toArray()),
      );
      expect(decided).toHaveLength(1);
      expect(runner.builds).toHaveLength(1);
      expect([runner.closes, closed]).toEqual([0, 0]);
    } finally {
      await made.close();
    }
  });
});
