import type { Observable } from 'rxjs';
/** Turns the `pipeline` section of a run configuration into `deepSvddPipeline` options. */
import {
  PIPELINE_DEFAULTS,
  type PipelineHooks,
  type PipelineOptions,
} from '../../../operators/deep-svdd-pipeline.js';
import type { RowsReady } from '../../core/rows-ready.js';
import type { ChunkRunner } from '../../scoring/onnx/chunk-runner.js';
import type { PipelineConfig } from './run-config.js';

/**
 * The pipeline options of a `pipeline` section, with the service's hooks. The frame verdict is
 * a blob of `minArea` pixels (default {@link PIPELINE_DEFAULTS.minArea}) unless only `minPixels`
 * is given. `scorerRunner`: the `onnx` scorer's runner, owned by the caller (warmed up first).
 *
 * @example
 * ```ts
 * const pipeline = deepSvddPipeline(bundle, pipelineOptions(config.pipeline, hooks));
 * ```
 */
export function pipelineOptions(
  config: PipelineConfig,
  hooks: PipelineHooks,
  earlyRows?: Observable<RowsReady>,
  scorerRunner?: ChunkRunner,
): PipelineOptions {
  const { threshold, center, decide, backpressure } = config;
  const minArea = decide.minArea ?? (decide.minPixels === undefined ? PIPELINE_DEFAULTS.minArea : undefined);
  return {
    threshold: {
      mode: threshold.mode,
      windowFrames: threshold.windowFrames,
      sketch: threshold.sketch,
      ...(threshold.q === undefined ? {} : { q: threshold.q }),
      ...(threshold.windowSeconds === undefined ? {} : { windowSeconds: threshold.windowSeconds }),
      ...(threshold.margin === undefined ? {} : { margin: threshold.margin }),
      ...(threshold.minSamples === undefined ? {} : { minSamples: threshold.minSamples }),
    },
    center: { mode: center.mode, alpha: center.alpha },
    decide: {
      connectivity: decide.connectivity,
      assemble: decide.assemble,
      ...(decide.minPixels === undefined ? {} : { minPixels: decide.minPixels }),
      ...(minArea === undefined ? {} : { minArea }),
    },
    backpressure: { policy: backpressure.policy, capacity: backpressure.capacity },
    ...(config.maxValues === undefined ? {} : { maxValues: config.maxValues }),
    scorer: config.scorer,
    scorerThreads: config.scorerThreads,
    ...(config.scorerWorkers === undefined ? {} : { scorerWorkers: config.scorerWorkers }),
    ...(config.earlyRows && earlyRows !== undefined ? { earlyRows } : {}),
    ...(scorerRunner === undefined ? {} : { scorerRunner }),
    hooks,
  };
}
