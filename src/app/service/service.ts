/**
 * `cubestream run`: one camera source -> the Deep SVDD pipeline -> decision sinks, with
 * Prometheus metrics, health endpoints, pino logs, the live viewer, and a graceful stop that
 * drains the frames in flight and flushes the sinks before closing.
 */
import { resolve } from 'node:path';
import { Subject, type Subscription, takeUntil, tap } from 'rxjs';
import { CaptureSink } from '../../../connectors/sinks/capture/capture-sink.js';
import { SinkConnectTimeoutError } from '../../../connectors/sinks/errors.js';
import type { StatusUpdate } from '../../../connectors/sinks/sink.js';
import { QueueRoom } from '../../../connectors/sources/demand.js';
import type { SourceState } from '../../../connectors/sources/source-state.js';
import { deepSvddPipeline } from '../../../operators/deep-svdd-pipeline.js';
import { type DecidedFrame, type UndecidedBlock, undecidedDecision } from '../../core/decision.js';
import { asError } from '../../core/errors.js';
import { type LoadedBundle, loadBundle } from '../../model/bundle.js';
import { type EngineInfo, initEngine } from '../../scoring/engine.js';
import { createScorer } from '../../scoring/scorer.js';
import { componentLogger, createLogger, type Logger } from '../../telemetry/logger.js';
import { type CubestreamMetrics, createMetrics } from '../../telemetry/metrics.js';
import { resolveTrainEngine } from '../../train/gradient-engine.js';
import { startTelemetryServer, type TelemetryServer } from '../http/http-server.js';
import { startViewerServer, ViewerHub, type ViewerServer, WorkerStripRenderer } from '../web/index.js';
import { resolveAuthToken } from './auth-token.js';
import { resolveBrokerSecrets } from './broker-secrets.js';
import { cameraHooks } from './camera-hooks.js';
import { cameraStateWiring } from './camera-state-hooks.js';
import { DecisionPublisher } from './decision-publisher.js';
import { createEjectDispatcher } from './eject-dispatcher.js';
import { healthReport, type ServiceHealthState } from './health.js';
import { type ModelLane, ModelReloader } from './model-reload.js';
import { pipelineOptions } from './pipeline-options.js';
import { PipelineTelemetry } from './pipeline-telemetry.js';
import { expectedCameraIds, isBrokerSource, type RunConfig } from './run-config.js';
import { warmScorer } from './scorer-warmup.js';
import { PortInUseError } from './service-errors.js';
import { ServiceStats } from './service-stats.js';
import { createSinks } from './sinks.js';
import { createSource, requireSourceRuntime } from './sources.js';
import { StatusRefresher } from './status-refresher.js';
import type { LaneContext } from './switching-pipeline.js';
import { viewerTelemetry } from './viewer-telemetry.js';

/** How often the OPC UA and Sparkplug sinks get each camera's τ and centre drift (ms). */
const PLC_STATUS_INTERVAL_MS = 1_000;

/** How a service run ended. */
export interface ServiceOutcome {
  /** Why it stopped: the signal or caller's reason, `source ended`, or `stream error` (source or pipeline failed). */
  readonly reason: string;
  /** Exit code: 0 when everything decided was published (or handed to a queue) in time, else 1. */
  readonly code: 0 | 1;
  /** The error that ended the run or spoiled the shutdown, if any. */
  readonly error?: Error;
  /** Frames received, decisions made, dropped and rejected frames over the run. */
  readonly frames: number;
  readonly decisions: number;
  readonly dropped: number;
  readonly rejected: number;
}

/** Things the caller may provide instead of the defaults (tests, the demo). */
export interface ServiceDeps {
  /** Root logger (default: a pino logger at `config.log.level` on stdout). */
  readonly logger?: Logger;
  /** Metrics registry (default: a fresh one with the process metrics). */
  readonly metrics?: CubestreamMetrics;
  /**
   * Called with each decided block after it was handed to the sinks. Its `spectra` may be
   * handed back to the source right after the call: keep the decision, not the spectra.
   */
  readonly onDecision?: (decided: DecidedFrame) => void;
}

/** A started service. */
export interface RunningService {
  /** The running model's version (decisions and status carry it); a hot reload (`model.watch`) changes it. */
  readonly modelVersion: string;
  /** The tfjs backend in use (training, fallback scoring). */
  readonly engine: EngineInfo;
  /** The engine that scores pixels: `onnx` (fused graph) or `tfjs`. */
  readonly scorer: 'onnx' | 'tfjs';
  /** Worker threads scoring blocks (`onnx` scorer; 0: in the main thread or on tfjs). */
  readonly scorerWorkers: number;
  /** Whether the source publishes rows as it captures them and the scorer scores them ahead (`pipeline.earlyRows`). */
  readonly earlyRows: boolean;
  readonly metrics: CubestreamMetrics;
  /** Running totals for summaries. */
  readonly stats: ServiceStats;
  /** `http://host:port` of /metrics, /healthz, /readyz. */
  readonly telemetryUrl: string;
  /** `host:port` the telemetry server is bound to (e.g. `127.0.0.1:9464`, `0.0.0.0:9464`). */
  readonly telemetryAddress: string;
  /** Whether /metrics requires a bearer token (`metrics.auth`). */
  readonly metricsAuth: boolean;
  /** The live viewer's page, when enabled. */
  readonly viewerUrl?: string;
  /** `host:port` the viewer server is bound to, when enabled. */
  readonly viewerAddress?: string;
  /** Whether the viewer requires a token (`viewer.auth`). */
  readonly viewerAuth: boolean;
  /** Current source state. */
  readonly sourceState: SourceState;
  /** Resolves once the service has stopped and closed everything; never rejects. */
  readonly done: Promise<ServiceOutcome>;
  /**
   * Stops the camera, lets the frames in flight finish the pipeline, waits for every publish,
   * flushes the sinks (within `shutdown.deadlineMs`), closes; resolves with the outcome.
   */
  stop(reason: string): Promise<ServiceOutcome>;
}

async function listen<T>(what: string, host: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new PortInUseError(what, host, port, { cause: error });
    throw error;
  }
}

/**
 * Starts the service a run configuration describes: engine, model bundle (`model_info`), sinks
 * (their connection timeouts are logged and retried in the background; a permanent error such
 * as refused credentials fails the start), telemetry and viewer servers, then the stream.
 *
 * @throws `AravisUnavailableError` for a genicam source without Aravis or koffi (before anything
 *   starts); `BundleError`/`ConfigError` for a bad bundle, `EngineError`, `PortInUseError`, sink
 *   option and permanent connection errors; everything started is closed again first
 * @example
 * ```ts
 * import { loadRunConfig } from './run-config.js';
 * const config = await loadRunConfig('configs/run/production.yaml');
 * const service = await startService(config);
 * process.once('SIGTERM', () => void service.stop('SIGTERM'));
 * const outcome = await service.done; // { code: 0, reason: 'SIGTERM', ... }
 * ```
 */
export async function startService(given: RunConfig, deps: ServiceDeps = {}): Promise<RunningService> {
  // Secrets from files (passwordFile, passFile, tokenFile) are read before anything starts, and
  // a camera library the source needs (Aravis) is looked for.
  const config = await resolveBrokerSecrets(given);
  await requireSourceRuntime(config.source);
  const root = deps.logger ?? createLogger(config.log.level === undefined ? {} : { level: config.log.level });
  const log = componentLogger(root, 'service');
  const metrics = deps.metrics ?? createMetrics();
  // Foreign bodies count in the truth figures from the frame verdict's smallest blob on.
  const stats = new ServiceStats(undefined, undefined, config.pipeline.decide.minArea ?? 1);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const close of cleanups.reverse())
      await close().catch((error: unknown) => log.warn({ err: error }, 'close failed'));
  };

  try {
    const engine = await initEngine({ backend: config.engine.backend });
    log.info({ backend: engine.backend, fallbackReason: engine.fallbackReason }, 'engine ready');

    // Tokens first: a missing secret fails the start before anything is opened.
    const metricsToken = await resolveAuthToken(config.metrics.auth, 'metrics.auth');
    const viewerToken = await resolveAuthToken(config.viewer.auth, 'viewer.auth');

    const bundle = await loadBundle(resolve(config.model.path));
    const modelVersion = bundle.manifest.version;
    // The model deciding now; a hot reload (`model.watch`) replaces it through `setModel` below.
    let model: LoadedBundle = bundle;
    metrics.setModelInfo(modelVersion, bundle.weightsSha256);
    log.info(
      {
        model: bundle.dir,
        version: modelVersion,
        detector: bundle.manifest.detector,
        threshold: bundle.calibration.threshold,
      },
      'model loaded',
    );
    // Chosen once; its workers (onnx) start in the warm-up below and stop at shutdown.
    const scorer = createScorer(bundle, {
      engine: config.pipeline.scorer,
      workers: config.pipeline.scorerWorkers,
      threads: config.pipeline.scorerThreads,
      tfjsBackend: engine.backend,
    });
    cleanups.push(() => scorer.close());
    log.info({ scorer: scorer.engine, reason: scorer.reason }, 'scorer chosen');
    metrics.setEngineInfo({
      scoring: scorer.engine,
      training: resolveTrainEngine('auto', engine.backend),
      tfjs: engine.backend,
    });

    const cameraIds = expectedCameraIds(config);
    const sinks = createSinks(config.sinks, { modelVersion, cameraIds, metrics, logger: root });
    cleanups.push(() => sinks.close());
    // Anomalous blocks (and a sample of normal ones) to disk, for review and retraining (docs/capture.md).
    const captureConfig = config.sinks.capture;
    const capture =
      captureConfig === undefined
        ? undefined
        : new CaptureSink(captureConfig, { metrics, cameraIds, logger: componentLogger(root, 'capture') });
    if (capture !== undefined) {
      await capture.open();
      cleanups.push(() => capture.close());
    }
    const dispatchEjects =
      config.ejector === undefined
        ? undefined
        : createEjectDispatcher(
            config.ejector,
            sinks,
            metrics,
            componentLogger(root, 'ejector'),
            config.pipeline.decide.assemble,
          );
    // The PLC-facing sinks hold the camera's state as variables / metrics: τ and the centre's
    // drift once a second, the source's state when it changes.
    const plcStatus = [sinks.opcua, sinks.sparkplug].filter((sink) => sink !== undefined);
    const pushPlcStatus = (cameraId: string, update: StatusUpdate): void => {
      for (const sink of plcStatus) {
        sink
          .publishStatus(cameraId, update)
          .catch((error: unknown) =>
            log.warn({ err: error, camera: cameraId, sink: sink.name }, 'status update failed'),
          );
      }
    };
    if (plcStatus.length > 0) {
      const timer = setInterval(() => {
        for (const [cameraId, threshold] of stats.thresholds) {
          const centerDrift = stats.centerDrifts.get(cameraId);
          pushPlcStatus(cameraId, centerDrift === undefined ? { threshold } : { threshold, centerDrift });
        }
      }, PLC_STATUS_INTERVAL_MS);
      timer.unref();
      cleanups.push(async () => clearInterval(timer));
    }
    const health: ServiceHealthState = {
      modelVersion,
      sinks: sinks.decisions,
      source: 'starting',
      stopping: false,
    };

    const viewerEnabled = config.viewer.enabled && config.pipeline.decide.assemble === 'block';
    // Strips are drawn on a worker thread: PNG encoding stays off the loop that publishes decisions.
    const renderer = viewerEnabled ? new WorkerStripRenderer() : undefined;
    const hub = viewerEnabled
      ? new ViewerHub({
          ...(renderer === undefined ? {} : { renderer: (input) => renderer.render(input) }),
          // At shutdown the render worker closes under strips still in flight: not worth a warning.
          onRenderError: (error) =>
            health.stopping
              ? log.debug({ err: error }, 'viewer strip not rendered: stopping')
              : log.warn({ err: error }, 'viewer strip render failed'),
          statusProvider: (cameraId) => {
            const p99 = stats.latencyP99();
            const truth = stats.truthOf(cameraId);
            return {
              drops: stats.droppedOf(cameraId),
              ...(truth === undefined
                ? {}
                : { truth: { falseAlarmRate: truth.falseAlarmRate, recall: truth.recall } }),
              backend: scorer.engine === 'onnx' ? 'onnxruntime' : `tfjs-${engine.backend}`,
              modelVersion: model.manifest.version,
              ...(p99 === undefined ? {} : { latencyP99Ms: p99 * 1000 }),
            };
          },
        })
      : undefined;
    let viewer: ViewerServer | undefined;
    if (hub !== undefined) {
      const { port, host, maxClients, clientBufferBytes, snapshotStrips, snapshotBytes, maxConnections } =
        config.viewer;
      const onClientEvent = viewerTelemetry(
        metrics.registry,
        () => viewer?.handler.stats(),
        componentLogger(root, 'viewer'),
      );
      viewer = await listen('viewer.port', host, port, () =>
        startViewerServer({
          port,
          host,
          hub,
          maxClients,
          maxBufferedBytes: clientBufferBytes,
          snapshotStrips,
          snapshotBytes,
          maxConnections,
          onClientEvent,
          ...(viewerToken === undefined ? {} : { token: viewerToken }),
        }),
      );
      const opened = viewer;
      cleanups.push(async () => {
        hub.close();
        await Promise.all([opened.close(), renderer?.close()]);
      });
    } else if (config.viewer.enabled) {
      log.info('live viewer off: it draws blocks, and pipeline.decide.assemble is frame');
    }

    const { port, host } = config.metrics;
    const telemetry: TelemetryServer = await listen('metrics.port', host, port, () =>
      startTelemetryServer({
        port,
        host,
        metrics,
        health: () => healthReport(health),
        ...(metricsToken === undefined ? {} : { token: metricsToken }),
      }),
    );
    cleanups.push(() => telemetry.close());
    log.info(
      {
        listen: telemetry.address,
        url: `${telemetry.url}/metrics`,
        metricsAuth: metricsToken !== undefined,
        ...(viewer === undefined
          ? {}
          : { viewerListen: viewer.address, viewer: viewer.pageUrl, viewerAuth: viewerToken !== undefined }),
      },
      `telemetry listening on ${telemetry.address}${viewer === undefined ? '' : `, viewer on ${viewer.address}`}`,
    );

    const failures = await sinks.connect();
    for (const failure of failures) {
      if (!(failure instanceof SinkConnectTimeoutError)) throw failure;
      log.warn({ err: failure }, 'sink not connected yet; decisions queue until it is');
    }

    const mqtt = sinks.mqtt;
    const statusConfig = config.sinks.mqtt?.statusRefresh;
    const refresher =
      mqtt === undefined || statusConfig === undefined
        ? undefined
        : new StatusRefresher({
            publish: (cameraId, update) => mqtt.publishStatus(cameraId, update),
            minRelativeChange: statusConfig.minRelativeChange,
            minIntervalMs: statusConfig.minIntervalMs,
            logger: log,
          });
    if (refresher !== undefined) {
      for (const cameraId of cameraIds) refresher.update(cameraId, bundle.calibration.threshold);
      cleanups.push(async () => refresher.close());
    }

    const source = config.source;
    // Sources without a line rate (replay, simulation) go as fast as the scorer's queue has room.
    const room = new QueueRoom(config.pipeline.backpressure.capacity);
    const exhaustedLetters = new Set<Promise<unknown>>();
    // Per camera, the last block given an `unknown` verdict for lines its camera lost.
    const unseenBlocks = new Map<string, number>();
    const sourceLog = componentLogger(root, 'source', { kind: source.kind });
    // Leased cameras: their centre and threshold go from owner to owner (docs/scaling-out.md §3).
    const cameraState = cameraStateWiring(source, sourceLog, (cameraId, outcome) =>
      metrics.cameraState.inc({ camera: cameraId, outcome }),
    );
    const camera = createSource(source, {
      ...cameraState?.hooks,
      demand: room.demand,
      onConnectionIssue: ({ error, attempt, retryInMs }) =>
        sourceLog.warn(
          { err: error, attempt, retryInMs },
          source.kind === 'genicam'
            ? 'camera unreachable or lost; reconnecting'
            : 'source cannot reach its broker; retrying',
        ),
      ...cameraHooks(
        sourceLog,
        (camera, reason, lines) => telemetryHooks.sourceDropped(camera, reason, lines),
        // Fail safe: lines a camera lost passed it unseen. The block they fall in gets one
        // `unknown` verdict at once (at the row they were lost), however many lines it lost.
        (lost) => {
          if (unseenBlocks.get(lost.cameraId) === lost.block.frameId) return;
          unseenBlocks.set(lost.cameraId, lost.block.frameId);
          const { cameraId, block } = lost;
          publishUndecided(
            { cameraId, frameId: block.frameId, rowOffset: block.row, capturedAt: Date.now() },
            `camera:${lost.reason}`,
          );
        },
      ),
      onReject: (rejected) => telemetryHooks.rejectedMessage(rejected),
      onLease: ({ camera, event, workerId }) =>
        sourceLog[event === 'expired' ? 'warn' : 'info'](
          { camera, workerId, event },
          `camera lease ${event}`,
        ),
      onLeaseError: (error) => sourceLog.warn({ err: error }, 'camera lease renewal failed; retrying'),
      // A JetStream frame whose decision never got out, delivered once too often: terminated.
      onExhausted: (exhausted) => {
        sourceLog.warn(
          {
            camera: exhausted.cameraId,
            subject: exhausted.channel,
            deliveries: exhausted.deliveries,
            streamSequence: exhausted.streamSequence,
          },
          'frame delivered too often without its decision delivered: dead-lettered and terminated',
        );
        const letter = sinks.deadLetters.publish({
          reason: 'max_deliver',
          message: `delivered ${exhausted.deliveries - 1} times without its decision delivered by every sink`,
          ...(exhausted.cameraId === undefined ? {} : { cameraId: exhausted.cameraId }),
          at: Date.now(),
          metadata: {
            channel: exhausted.channel,
            bytes: exhausted.bytes,
            deliveries: exhausted.deliveries,
            streamSequence: exhausted.streamSequence,
            ...(exhausted.msgId === undefined ? {} : { msgId: exhausted.msgId }),
          },
        });
        exhaustedLetters.add(letter);
        void letter.finally(() => exhaustedLetters.delete(letter));
      },
      ...(config.pipeline.maxValues === undefined ? {} : { maxValues: config.pipeline.maxValues }),
    });
    const telemetryHooks = new PipelineTelemetry({
      metrics,
      stats,
      logger: root,
      deadLetters: sinks.deadLetters,
      cameras: isBrokerSource(source) ? source.cameraIds : [source.cameraId],
      get calibratedThreshold() {
        return model.calibration.threshold;
      },
      ...(refresher === undefined
        ? {}
        : { onThreshold: (camera: string, tau: number) => refresher.update(camera, tau) }),
      // Fail safe: a block that cannot be decided still yields a decision, verdict `unknown`,
      // on every decision channel, so that a PLC diverts it instead of letting it pass unseen.
      // Its source's ack (`CubeFrame.ack`) waits for that decision's delivery; a block with no
      // valid identity gets none and is only dead-lettered, so it is acknowledged at once.
      onUndecided: (frame, reason) => publishUndecided(frame, reason),
    });
    const publishUndecided = (
      block: UndecidedBlock & { readonly ack?: () => void },
      reason: string,
    ): void => {
      const tau = stats.thresholds.get(block.cameraId) ?? model.calibration.threshold;
      const decision = undecidedDecision(block, reason, tau, model.manifest.version, Date.now());
      if (decision === undefined) {
        block.ack?.();
        return;
      }
      stats.undecided += 1;
      publisher.publish(decision, block.ack);
    };
    const publisher = new DecisionPublisher({
      sinks: sinks.decisions,
      metrics,
      logger: componentLogger(root, 'publisher'),
      onPublished: (_decision, latency) => {
        if (latency === undefined) return;
        stats.recordLatency(latency);
        if (stats.warmedUp) metrics.warmupComplete.set(1);
      },
    });
    // A lost source (camera unplugged, frames broker gone) turns its cameras' retained MQTT
    // status `offline` until frames flow again.
    let sourceLost = false;
    const stateSubscription = camera.state.subscribe((state) => {
      health.source = state;
      telemetryHooks.sourceState(state);
      sourceLog.info({ state }, 'source state');
      const lost = state === 'disconnected';
      if (lost === sourceLost || (!lost && state !== 'running')) return;
      sourceLost = lost;
      for (const cameraId of cameraIds) {
        sinks.mqtt
          ?.publishStatus(cameraId, { state: lost ? 'offline' : 'online' })
          .catch((error: unknown) =>
            sourceLog.warn({ err: error, camera: cameraId }, 'status update failed'),
          );
        pushPlcStatus(cameraId, { state: lost ? 'offline' : 'online' });
      }
    });
    cleanups.push(async () => stateSubscription.unsubscribe());

    // One scorer for the warm-up and the pipeline: its workers start and the graph is built and
    // loaded into them here, before the camera opens, instead of on the first blocks.
    metrics.warmupComplete.set(0);
    const warmupMs = await warmScorer(bundle, config.pipeline, scorer);
    if (scorer.workers > 0) log.info({ workers: scorer.workers }, 'scoring workers ready');
    log.info({ ms: Math.round(warmupMs) }, 'scorer warmed up');
    const hooks = telemetryHooks.hooks;
    const modelPipeline = (lane: ModelLane, { rows, queueDepth }: LaneContext) =>
      deepSvddPipeline(
        lane.bundle,
        pipelineOptions(
          config.pipeline,
          {
            ...hooks,
            onQueueDepth: (depth) => {
              const total = queueDepth(depth);
              hooks.onQueueDepth?.(total);
              room.update(total);
            },
          },
          rows,
          lane.scorer,
          cameraState?.checkpoints,
        ),
      );
    // The one setter of the model version decisions do not carry by themselves: health, the
    // model_info metric, the calibrated τ, the retained MQTT status, OPC UA and Sparkplug.
    const setModel = (next: LoadedBundle): void => {
      model = next;
      const version = next.manifest.version;
      health.modelVersion = version;
      metrics.setModelInfo(version, next.weightsSha256);
      for (const cameraId of cameraIds) {
        metrics.thresholdCalibrated.set({ camera: cameraId }, next.calibration.threshold);
        sinks.mqtt
          ?.publishStatus(cameraId, { modelVersion: version })
          .catch((error: unknown) => log.warn({ err: error, camera: cameraId }, 'status update failed'));
        pushPlcStatus(cameraId, { modelVersion: version });
      }
    };
    // Hot model reload (docs/model-rollout.md): the watched key's model takes over between two blocks.
    const watch = config.model.watch;
    const reloader =
      watch === undefined
        ? undefined
        : new ModelReloader({
            watch,
            source,
            first: { bundle, scorer },
            build: modelPipeline,
            ...(camera.rows === undefined ? {} : { rows: camera.rows }),
            boundary: config.pipeline.decide.assemble,
            createScorer: (next) =>
              createScorer(next, {
                engine: config.pipeline.scorer,
                workers: config.pipeline.scorerWorkers,
                threads: config.pipeline.scorerThreads,
                tfjsBackend: engine.backend,
              }),
            warm: (next, nextScorer) => warmScorer(next, config.pipeline, nextScorer),
            onModel: setModel,
            metrics,
            logger: root,
          });
    if (reloader !== undefined) {
      cleanups.push(() => reloader.close());
      await reloader.start();
    }
    const pipeline =
      reloader?.operator ?? modelPipeline({ bundle, scorer }, { rows: camera.rows, queueDepth: (d) => d });
    const earlyRows = scorer.engine === 'onnx' && config.pipeline.earlyRows && camera.rows !== undefined;
    if (earlyRows) log.info('scoring rows ahead as the camera captures them (early rows)');
    // The one place a decided block's buffer goes back to its source (`CubeFrame.release`):
    // after its last reader, the viewer, which copies what it draws. Rejected and dropped blocks
    // never get here; the pipeline releases those.
    const lastRead = (decided: DecidedFrame): void => {
      try {
        capture?.offer(decided); // copies what it saves: the buffer may go back below
        const { spectra } = decided;
        if (hub !== undefined && spectra !== undefined)
          hub.push({ frame: { ...decided, ...spectra }, decided });
      } catch (error) {
        log.warn({ err: error, camera: decided.cameraId, frameId: decided.frameId }, 'viewer push failed');
      } finally {
        decided.release?.();
      }
    };
    const stop$ = new Subject<void>();
    let stopReason: string | undefined;
    let streamError: Error | undefined;
    let stream: Subscription | undefined;
    const streamEnded = new Promise<void>((resolveEnded) => {
      stream = camera.frames
        .pipe(
          takeUntil(stop$),
          tap((frame) => telemetryHooks.received(frame)),
          pipeline,
        )
        .subscribe({
          next: (decided) => {
            telemetryHooks.decided(decided);
            // The frame is acknowledged to its broker (a JetStream source) only once every sink
            // acknowledged its decision: at least once, end to end.
            publisher.publish(decided.decision, decided.ack);
            dispatchEjects?.(decided);
            deps.onDecision?.(decided);
            // The viewer renders a strip after the decision has left for the brokers (their
            // clients write on the next tick).
            if (hub === undefined) lastRead(decided);
            else setImmediate(() => lastRead(decided));
          },
          error: (error: unknown) => {
            streamError = asError(error);
            log.error({ err: streamError }, 'stream failed');
            resolveEnded();
          },
          complete: () => resolveEnded(),
        });
    });
    log.info(
      { source: source.kind, cameras: cameraIds, sinks: sinks.decisions.map((s) => s.name) },
      'service running',
    );

    let stopRequested: number | undefined;
    const done: Promise<ServiceOutcome> = streamEnded.then(async () => {
      const started = stopRequested ?? Date.now();
      health.stopping = true;
      stream?.unsubscribe();
      const reason = stopReason ?? (streamError === undefined ? 'source ended' : 'stream error');
      log.info({ reason, frames: stats.frames, decisions: stats.decisions }, 'draining');
      let failure: Error | undefined = streamError;
      await publisher.settled();
      await telemetryHooks.deadLettersSettled();
      while (exhaustedLetters.size > 0) await Promise.allSettled([...exhaustedLetters]);
      const remaining = Math.max(0, config.shutdown.deadlineMs - (Date.now() - started) - 500);
      const flushes = await Promise.allSettled(sinks.decisions.map((sink) => sink.flush(remaining)));
      for (const flush of flushes) {
        if (flush.status === 'rejected') {
          failure ??= asError(flush.reason);
          log.error(
            { err: flush.reason },
            'sink flush failed; what is still queued is dropped and counted (kept for the next start with sinks.outbox)',
          );
        }
      }
      await cleanup();
      const outcome: ServiceOutcome = {
        reason,
        code: failure === undefined ? 0 : 1,
        ...(failure === undefined ? {} : { error: failure }),
        frames: stats.frames,
        decisions: stats.decisions,
        dropped: stats.dropped,
        rejected: stats.rejected,
      };
      log.info(
        {
          reason,
          code: outcome.code,
          frames: outcome.frames,
          decisions: outcome.decisions,
          dropped: outcome.dropped,
          rejected: outcome.rejected,
          published: publisher.totals,
          seconds: (Date.now() - started) / 1000,
        },
        'service stopped',
      );
      return outcome;
    });

    return {
      get modelVersion() {
        return model.manifest.version;
      },
      engine,
      scorer: scorer.engine,
      scorerWorkers: scorer.workers,
      earlyRows,
      metrics,
      stats,
      telemetryUrl: telemetry.url,
      telemetryAddress: telemetry.address,
      metricsAuth: metricsToken !== undefined,
      viewerAuth: viewer !== undefined && viewerToken !== undefined,
      ...(viewer === undefined ? {} : { viewerUrl: viewer.pageUrl, viewerAddress: viewer.address }),
      get sourceState() {
        return health.source;
      },
      done,
      stop(reason: string) {
        if (stopRequested === undefined) {
          stopRequested = Date.now();
          stopReason = reason;
          health.stopping = true;
          log.info({ reason }, 'stopping: camera closed, finishing frames in flight');
          stop$.next();
          stop$.complete();
        }
        return done;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
