import type { Observable, OperatorFunction } from 'rxjs';
import { defined } from '../src/core/defined.js';
import type { CubeFrame } from '../src/core/frame.js';
import type { RowsReady } from '../src/core/rows-ready.js';
import type { ScoredFrame } from '../src/core/scored-frame.js';
import type { ModelBundle } from '../src/model/bundle.js';
import { deepSvddFromBundle, rxFromBundle } from '../src/model/detector-bundle.js';
import type { ChunkRunner } from '../src/scoring/onnx/chunk-runner.js';
import { fusedUnsupportedReason } from '../src/scoring/onnx/fused-support.js';
import { DEFAULT_SCORER_THREADS } from '../src/scoring/onnx/session-chunk-runner.js';
import type { ScorerOptions } from './bundle-scorer.js';
import { type FrameScored, fusedDeepSvddScore } from './fused-deep-svdd-score.js';
import { fusedRxScore } from './fused-rx-score.js';
import { timedStage } from './internal/timed-stage.js';

export { fusedUnsupportedReason } from '../src/scoring/onnx/fused-support.js';

/** Options of {@link fusedScorerFromBundle}: the scorer options plus where onnxruntime runs. */
export interface FusedScorerOptions extends ScorerOptions {
  /** Worker threads scoring a block's chunks at once (default: one per core, at most 2; 0: in this thread). */
  readonly workers?: number;
  /** Intra-op threads of the in-thread session (`workers: 0`; default {@link DEFAULT_SCORER_THREADS}). */
  readonly threads?: number;
  /** A runner the caller owns and keeps open (see `ChunkRunnerOptions.runner`). */
  readonly runner?: ChunkRunner;
  /** Rows of blocks still being captured, scored ahead (see `fusedDeepSvddScore`). */
  readonly earlyRows?: Observable<RowsReady>;
  /** After each block, with how many of its pixels were scored ahead. */
  readonly onScored?: (scored: FrameScored) => void;
}

/**
 * The scorer a bundle describes, on onnxruntime-node's fused graph (z-score and centre folded,
 * docs/architecture.md §6: about 3x tfjs-wasm on CPU). Returns undefined when the bundle's stages are not all
 * in the fused graph (see {@link fusedUnsupportedReason}); use the tfjs scorer then.
 */
export function fusedScorerFromBundle(
  bundle: ModelBundle,
  options: FusedScorerOptions = {},
): OperatorFunction<CubeFrame, ScoredFrame> | undefined {
  const modelVersion = options.modelVersion ?? bundle.manifest.version;
  const threads = options.threads ?? DEFAULT_SCORER_THREADS;
  const given = defined({
    workers: options.workers,
    runner: options.runner,
    earlyRows: options.earlyRows,
    onScored: options.onScored,
  });
  if (bundle.manifest.detector === 'rx') {
    return timedStage(
      'score',
      fusedRxScore(rxFromBundle(bundle).rx, {
        modelVersion,
        threads,
        spinning: false,
        ...given,
      }),
      options.onStage,
    );
  }
  if (bundle.manifest.detector !== 'deep-svdd') return undefined;
  const params = deepSvddFromBundle(bundle);
  if (fusedUnsupportedReason(params) !== undefined) return undefined;
  const center = options.center ?? { mode: 'frozen' as const };
  return timedStage(
    'score',
    fusedDeepSvddScore(params, {
      modelVersion,
      threads,
      spinning: false,
      ...given,
      centerMode: center.mode,
      ...defined({
        alpha: center.alpha,
        gate: center.gate,
        onUpdate: center.onUpdate,
        checkpoints: center.checkpoints,
      }),
    }),
    options.onStage,
  );
}
