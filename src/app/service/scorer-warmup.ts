/**
 * Warms the scorer before the camera opens: its workers start (`Scorer.warm`), then a throw-away
 * copy of the pipeline scores a synthetic block (the model's own wavelengths) on the scorer the
 * service's pipeline will use, so that the scoring graph is built and loaded into every worker
 * once, here, and the first real block does not pay the 60-90 ms of graph load (which used to
 * show as warm-up drops and a false p99 alarm after every start); the JIT warms on the same
 * code. The copy has its own centre and threshold state, so the service's state is untouched;
 * no hook is called.
 */
import { lastValueFrom, of, toArray } from 'rxjs';
import { deepSvddPipeline } from '../../../operators/deep-svdd-pipeline.js';
import { createFrame } from '../../core/frame.js';
import type { LoadedBundle } from '../../model/bundle.js';
import type { Scorer } from '../../scoring/scorer.js';
import { pipelineOptions } from './pipeline-options.js';
import type { PipelineConfig } from './run-config.js';

/** Pixels of a warm-up block: several scoring chunks, so that every worker of the pool gets one. */
const WARMUP_PIXELS = 32_768;
const WARMUP_WIDTH = 256;

/** Synthetic, finite block data (a plain spectrum with a ripple, never all zeros). */
function warmupData(values: number): Float32Array {
  const data = new Float32Array(values);
  for (let i = 0; i < data.length; i++) data[i] = 1000 + (i % 7) * 13;
  return data;
}

/**
 * Starts the scorer's workers and scores a synthetic block through a copy of the service's
 * pipeline on it; resolves when done.
 *
 * @param scorer - the scorer the service's pipeline gets too (its graphs stay loaded; on tfjs
 *   only the JIT and kernels warm)
 * @returns milliseconds it took
 * @example
 * ```ts
 * import { createScorer } from 'cubestream';
 * import { deepSvddPipeline } from 'cubestream/operators';
 * import { pipelineOptions } from './pipeline-options.js';
 * const scorer = createScorer(bundle, { workers: 2 });
 * const ms = await warmScorer(bundle, config.pipeline, scorer); // before camera.frames is subscribed
 * const pipeline = deepSvddPipeline(bundle, pipelineOptions(config.pipeline, {}, camera.rows, scorer));
 * ```
 */
export async function warmScorer(
  bundle: LoadedBundle,
  config: PipelineConfig,
  scorer: Scorer,
): Promise<number> {
  const started = performance.now();
  await scorer.warm();
  const { bands, wavelengths, wavelengthUnits } = bundle.manifest.input;
  const height = Math.ceil(WARMUP_PIXELS / WARMUP_WIDTH);
  const frame = createFrame({
    height,
    width: WARMUP_WIDTH,
    bands,
    wavelengths,
    wavelengthUnits,
    data: warmupData(height * WARMUP_WIDTH * bands),
  });
  const pipeline = deepSvddPipeline(
    bundle,
    pipelineOptions(
      { ...config, earlyRows: false, backpressure: { policy: 'block', capacity: 2 } },
      {},
      undefined,
      scorer,
    ),
  );
  await lastValueFrom(of(frame).pipe(pipeline, toArray()));
  return performance.now() - started;
}
