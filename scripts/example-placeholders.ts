/**
 * Placeholders the TSDoc examples use without defining them (scripts/check-examples.ts): each is
 * declared with the real type it stands for, so an example that uses a field that does not exist
 * fails to compile. Only names many examples share live here; an example that needs another one
 * declares it itself (`declare const req: IncomingMessage;`), so that a reader sees its type.
 */
import type { Observable } from 'rxjs';
import type { CameraSource, DecisionSink } from '../connectors/index.js';
import type { RunConfig } from '../src/app/service/run-config.js';
import type {
  CubeFrame,
  CubestreamMetrics,
  DecidedFrame,
  Decision,
  DeepSvddParams,
  LoadedBundle,
  Logger,
  ScoredFrame,
} from '../src/index.js';
import type { AdamW } from '../src/train/adamw.js';
import type { Dataset } from '../src/train/dataset.js';
import type { DeepSvddVariables } from '../src/train/deep-svdd-variables.js';
import type { TrainrunConfig } from '../src/train/trainrun-schema.js';

declare global {
  /** A cube frame (one block of rows) from a camera. */
  const frame: CubeFrame;
  /** A camera's frames. */
  const frames$: Observable<CubeFrame>;
  /** Frames to fit statistics on (normal material). */
  const trainingFrames: readonly CubeFrame[];
  /** Scored frames, as a scorer emits them. */
  const scored$: Observable<ScoredFrame>;
  /** A camera (simulated, ENVI replay, MQTT, NATS). */
  const camera: CameraSource;
  /** A model bundle, as `loadBundle` returns it. */
  const bundle: LoadedBundle;
  /** A Deep SVDD detector's parameters, as `deepSvddFromBundle(bundle)` returns them. */
  const params: DeepSvddParams;
  /** A frame with its mask and decision, as the pipeline emits it. */
  const decided: DecidedFrame;
  /** A decision message. */
  const decision: Decision;
  /** A decision sink (MQTT, NATS, file). */
  const sink: DecisionSink;
  /** The service's run configuration (`configs/run/*.yaml`, validated). */
  const config: RunConfig;
  /** The pino logger. */
  const logger: Logger;
  /** The Prometheus metrics. */
  const metrics: CubestreamMetrics;
  /** A training run's configuration (`configs/trainrun/*.yaml`, validated). */
  const trainConfig: TrainrunConfig;
  /** A dataset, as `openDataset` returns it. */
  const dataset: Dataset;
  /** A Deep SVDD network being trained. */
  const model: DeepSvddVariables;
  /** Its optimiser. */
  const optimizer: AdamW;
  /** A training batch of pixels, `[n * bands]`. */
  const batch: Float32Array;
}
