import { map, type Observable, type OperatorFunction } from 'rxjs';
import { bandpassByWavelength } from '../operators/bandpass-by-wavelength.js';
import { decideAnomalies } from '../operators/decide-anomalies.js';
import { type FrameScored, fusedDeepSvddScore } from '../operators/fused-deep-svdd-score.js';
import { perPixelUnitNorm } from '../operators/per-pixel-unit-norm.js';
import { projectEmbeddings } from '../operators/project-embeddings.js';
import { rollingQuantileThreshold } from '../operators/rolling-quantile-threshold.js';
import { scoreDistance } from '../operators/score-distance.js';
import { toTensorFrame } from '../operators/to-tensor-frame.js';
import { trackCenter } from '../operators/track-center.js';
import { zscoreNormalize } from '../operators/zscore-normalize.js';
import type { DecidedFrame } from '../src/core/decision.js';
import type { CubeFrame } from '../src/core/frame.js';
import type { RowsReady } from '../src/core/rows-ready.js';
import type { ScoredFrame } from '../src/core/scored-frame.js';
import type { DeepSvddParams } from '../src/model/deep-svdd-params.js';
import type { Uint16CubeFrame } from '../src/scoring/onnx/uint16-frame.js';
import type { StageClock } from './block-runner.js';

/** Scoring engines the benchmark compares. */
export type BenchEngine = 'tfjs' | 'onnx';

/** Options of {@link scoringPipeline}. */
export interface PipelineOptions {
  readonly params: DeepSvddParams;
  /** Calibrated τ the rolling threshold starts from. */
  readonly seedThreshold: number;
  /** onnxruntime intra-op threads of the in-thread session (`workers: 0`). */
  readonly threads: number;
  /** Worker threads of the onnx engine (default: one per core, at most 2; 0: one in-thread session). */
  readonly workers?: number;
  /** Let idle onnxruntime threads spin (default true). */
  readonly spinning?: boolean;
  /** Pixels per onnxruntime run (default: the operator's, 8,192). */
  readonly chunkPixels?: number;
  /** Rows of blocks still being captured, scored ahead by the onnx engine (`fusedDeepSvddScore`'s `earlyRows`). */
  readonly earlyRows?: Observable<RowsReady>;
  /** Called per block by the onnx engine with how many pixels were scored ahead. */
  readonly onScored?: (scored: FrameScored) => void;
}

/** Online centre tracking in both engines: gated EMA, α = 0.005, gated by the camera's current τ. */
const CENTER_ALPHA = 0.005;

/**
 * The end-to-end pipeline of one engine, each stage timed by `clock`: raw uint16 blocks in,
 * one decision per block out (rolling 0.999 quantile over 20 frames with DDSketch, blobs of
 * >= 4 pixels). `tfjs` converts the counts to float32 first (what a frame source does) and runs
 * the seven tensor operators; `onnx` feeds the counts to the fused graph.
 */
export function scoringPipeline(
  engine: BenchEngine,
  clock: StageClock,
  options: PipelineOptions,
): (source: Observable<Uint16CubeFrame>) => Observable<DecidedFrame> {
  const { params } = options;
  const threshold = rollingQuantileThreshold({
    q: 0.999,
    window: { frames: 20 },
    seed: options.seedThreshold,
    sketch: 'ddsketch',
  });
  const gate = (camera: string): number => threshold.state.current(camera);
  const decide = decideAnomalies({ minArea: 4 });
  const t = clock.timed.bind(clock);

  let score: OperatorFunction<Uint16CubeFrame, ScoredFrame>;
  if (engine === 'onnx') {
    score = t(
      'fusedDeepSvddScore',
      fusedDeepSvddScore(params, {
        centerMode: 'gated-ema',
        alpha: CENTER_ALPHA,
        gate,
        threads: options.threads,
        ...(options.workers === undefined ? {} : { workers: options.workers }),
        ...(options.spinning === undefined ? {} : { spinning: options.spinning }),
        ...(options.chunkPixels === undefined ? {} : { chunkPixels: options.chunkPixels }),
        ...(options.earlyRows === undefined ? {} : { earlyRows: options.earlyRows }),
        ...(options.onScored === undefined ? {} : { onScored: options.onScored }),
      }),
    );
  } else {
    const bandpass = params.bandpass;
    if (bandpass === undefined) throw new Error('the benchmark model has a band-pass');
    score = (source) =>
      source.pipe(
        t(
          'convertToFloat32',
          map((frame): CubeFrame => ({ ...frame, data: new Float32Array(frame.data) })),
        ),
        t('toTensorFrame', toTensorFrame()),
        t('bandpassByWavelength', bandpassByWavelength(bandpass)),
        t('perPixelUnitNorm', perPixelUnitNorm()),
        t('zscoreNormalize', zscoreNormalize(params.zscore)),
        t('projectEmbeddings', projectEmbeddings(params.project)),
        t(
          'trackCenter',
          trackCenter({ center: params.center, mode: 'gated-ema', alpha: CENTER_ALPHA, gate }),
        ),
        t('scoreDistance', scoreDistance()),
      );
  }
  return (source) =>
    source.pipe(score, t('rollingQuantileThreshold', threshold), t('decideAnomalies', decide));
}
