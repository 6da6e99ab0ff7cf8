import type { Observable, OperatorFunction } from 'rxjs';
import type { CubeFrame } from '../src/core/frame.js';
import type { RowsReady } from '../src/core/rows-ready.js';
import type { ScoredFrame } from '../src/core/scored-frame.js';
import type { ModelBundle } from '../src/model/bundle.js';
import type { DeepSvddParams } from '../src/model/deep-svdd-params.js';
import { deepSvddFromBundle, rxFromBundle } from '../src/model/detector-bundle.js';
import type { ChunkRunner } from '../src/scoring/onnx/chunk-runner.js';
import type { ScorerOptions } from './bundle-scorer.js';
import { type BlockScored, fusedDeepSvddScore } from './fused-deep-svdd-score.js';
import { fusedRxScore } from './fused-rx-score.js';
import { timedStage } from './internal/timed-stage.js';

/** Options of {@link fusedScorerFromBundle}: the scorer options plus where onnxruntime runs. */
export interface FusedScorerOptions extends ScorerOptions {
  /** Worker threads scoring a block's chunks at once (default: one per core, at most 2; 0: in this thread). */
  readonly workers?: number;
  /** Intra-op threads of the in-thread session (`workers: 0`; default 1: on a 2-core box shared with the rest of the pipeline it measured faster than 2). */
  readonly threads?: number;
  /** A runner the caller owns and keeps open (see `ChunkRunnerOptions.runner`). */
  readonly runner?: ChunkRunner;
  /** Rows of blocks still being captured, scored ahead (see `fusedDeepSvddScore`). */
  readonly earlyRows?: Observable<RowsReady>;
  /** After each block, with how many of its pixels were scored ahead. */
  readonly onScored?: (scored: BlockScored) => void;
}

/**
 * Why the fused onnxruntime graph cannot run these parameters, or undefined when it can. The
 * graph covers band-pass, unit norm, z-score, robust whitening, the (residual) ReLU projection
 * and the squared distance; stages beyond those keep the model on tfjs.
 */
export function fusedUnsupportedReason(params: DeepSvddParams): string | undefined {
  const extra = Object.keys(params).filter(
    (key) =>
      ![
        'wavelengthsNm',
        'wavelengthUnits',
        'bandpass',
        'unitNorm',
        'zscore',
        'whiten',
        'project',
        'center',
      ].includes(key),
  );
  if (extra.length > 0) return `stages ${extra.join(', ')} are not in the fused graph`;
  const projectExtra = Object.keys(params.project).filter(
    (key) => !['W1', 'b1', 'W2', 'hidden', 'rep', 'residual'].includes(key),
  );
  const flagged = projectExtra.filter(
    (key) =>
      (params.project as unknown as Record<string, unknown>)[key] !== undefined &&
      (params.project as unknown as Record<string, unknown>)[key] !== false,
  );
  if (flagged.length > 0) return `projection options ${flagged.join(', ')} are not in the fused graph`;
  return undefined;
}

/**
 * The scorer a bundle describes, on onnxruntime-node's fused graph (z-score and centre folded,
 * DESIGN §7: about 3x tfjs-wasm on CPU). Returns undefined when the bundle's stages are not all
 * in the fused graph (see {@link fusedUnsupportedReason}); use the tfjs scorer then.
 */
export function fusedScorerFromBundle(
  bundle: ModelBundle,
  options: FusedScorerOptions = {},
): OperatorFunction<CubeFrame, ScoredFrame> | undefined {
  const modelVersion = options.modelVersion ?? bundle.manifest.version;
  const threads = options.threads ?? 1;
  const workers = {
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.runner === undefined ? {} : { runner: options.runner }),
  };
  if (bundle.manifest.detector === 'rx') {
    return timedStage(
      'score',
      fusedRxScore(rxFromBundle(bundle).rx, {
        modelVersion,
        threads,
        spinning: false,
        ...workers,
        ...(options.earlyRows === undefined ? {} : { earlyRows: options.earlyRows }),
        ...(options.onScored === undefined ? {} : { onScored: options.onScored }),
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
      ...workers,
      centerMode: center.mode,
      ...(center.alpha === undefined ? {} : { alpha: center.alpha }),
      ...(center.gate === undefined ? {} : { gate: center.gate }),
      ...(center.onUpdate === undefined ? {} : { onUpdate: center.onUpdate }),
      ...(options.earlyRows === undefined ? {} : { earlyRows: options.earlyRows }),
      ...(options.onScored === undefined ? {} : { onScored: options.onScored }),
    }),
    options.onStage,
  );
}
