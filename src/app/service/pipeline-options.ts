/** Turns the `pipeline` section of a run configuration into `deepSvddPipeline` options. */
import type { Observable } from 'rxjs';
import type { PipelineHooks, PipelineOptions } from '../../../operators/deep-svdd-pipeline.js';
import type { RowsReady } from '../../core/rows-ready.js';
import type { CameraCheckpoints } from '../../scoring/camera-checkpoints.js';
import type { Scorer } from '../../scoring/scorer.js';
import type { PipelineConfig } from './run-config.js';

/**
 * The pipeline options of a `pipeline` section (its settings, already resolved by the schema
 * the operator parses with), with the service's hooks; the source's rows go to the scorer only
 * with `earlyRows: true`. `scorer`: the scorer the pipeline scores on (`scoreWith`), created,
 * warmed and closed by the caller; `checkpoints`: where leased cameras' state is lent.
 *
 * @example
 * ```ts
 * import { deepSvddPipeline } from 'cubestream/operators';
 * const hooks = { onThreshold: (camera: string, tau: number) => metrics.threshold.set({ camera }, tau) };
 * const pipeline = deepSvddPipeline(bundle, pipelineOptions(config.pipeline, hooks, camera.rows));
 * ```
 */
export function pipelineOptions(
  config: PipelineConfig,
  hooks: PipelineHooks,
  earlyRows?: Observable<RowsReady>,
  scorer?: Scorer,
  checkpoints?: CameraCheckpoints,
): PipelineOptions {
  const { earlyRows: scoreEarlyRows, ...settings } = config;
  return {
    ...settings,
    earlyRows: scoreEarlyRows ? earlyRows : undefined,
    scoreWith: scorer,
    hooks,
    ...(checkpoints === undefined ? {} : { checkpoints }),
  };
}
