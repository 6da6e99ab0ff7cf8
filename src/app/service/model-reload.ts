/**
 * The hot model reload of `cubestream run` (`model.watch`, docs/model-rollout.md): the service
 * follows one key of the model KV bucket; whenever it points at another version, the bundle is
 * downloaded from the Object Store, verified (the archive's SHA-256 against the pointer, the
 * bundle's hashes against its model card, the same input as the running model), its scorer
 * created and warmed beside the running one, and the pipeline switched to it between two blocks
 * ({@link SwitchingPipeline}). A bundle that fails any of it is refused (log `model refused`,
 * `cubestream_model_refused_total{reason}`), and the running model goes on.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KvEntry } from '@nats-io/kv';
import { credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { Observable, OperatorFunction } from 'rxjs';
import {
  ModelIntegrityError,
  type ModelKeyWatch,
  ModelStore,
  parsePointer,
} from '../../../connectors/shared/model-store.js';
import { connectNats } from '../../../connectors/shared/nats-connect.js';
import type { DecidedFrame } from '../../core/decision.js';
import { asError } from '../../core/errors.js';
import type { CubeFrame } from '../../core/frame.js';
import type { RowsReady } from '../../core/rows-ready.js';
import type { BundleManifest, LoadedBundle } from '../../model/bundle.js';
import { loadVerifiedBundle, unpackBundleArchive } from '../../model/bundle-archive.js';
import { checkFrameMatchesInput } from '../../model/input-spec.js';
import type { Scorer } from '../../scoring/scorer.js';
import type { Logger } from '../../telemetry/logger.js';
import type { CubestreamMetrics } from '../../telemetry/metrics.js';
import { redactUrl } from '../../telemetry/redact.js';
import type { ModelWatchConfig, SourceConfig } from './run-config.js';
import { type LaneContext, type SwitchBoundary, SwitchingPipeline } from './switching-pipeline.js';

/**
 * Why a model was refused, the `reason` of `cubestream_model_refused_total`: `pointer` (the key's
 * value is not a model pointer), `download` (the archive is not in the store or cannot be read),
 * `verify` (a hash does not match, or the archive is not a loadable bundle of the pointer's
 * version), `input` (it expects other frames than the running model: bands, wavelengths,
 * radiometry), `scorer` (its scorer could not be created or warmed).
 */
export const MODEL_REFUSE_REASONS = ['pointer', 'download', 'verify', 'input', 'scorer'] as const;
/** One of {@link MODEL_REFUSE_REASONS}. */
export type ModelRefuseReason = (typeof MODEL_REFUSE_REASONS)[number];

/** A model ready to decide: its bundle and its warmed scorer. */
export interface ModelLane {
  readonly bundle: LoadedBundle;
  readonly scorer: Scorer;
}

/**
 * Why `next` cannot take the frames `running` takes, or undefined when it can: the same band
 * count and wavelength units, wavelengths within the tolerance frames are checked with, and the
 * same radiometry when `next` states one.
 *
 * @example
 * ```ts
 * import type { LoadedBundle } from 'cubestream';
 * declare const next: LoadedBundle;
 * inputMismatch(bundle.manifest.input, next.manifest.input); // undefined, or e.g. 'bands: 61 -> 30'
 * ```
 */
export function inputMismatch(
  running: BundleManifest['input'],
  next: BundleManifest['input'],
): string | undefined {
  if (next.bands !== running.bands)
    return `bands: the running model takes ${running.bands}, this one ${next.bands}`;
  if (next.wavelengthUnits !== running.wavelengthUnits)
    return `wavelengthUnits: the running model takes ${running.wavelengthUnits}, this one ${next.wavelengthUnits}`;
  if (next.radiometry !== undefined && next.radiometry !== running.radiometry)
    return `radiometry: the running model takes ${running.radiometry ?? 'any'}, this one ${next.radiometry}`;
  try {
    checkFrameMatchesInput(next, {
      bands: running.bands,
      wavelengths: Float32Array.from(running.wavelengths),
      wavelengthUnits: running.wavelengthUnits,
    });
  } catch (error) {
    return asError(error).message;
  }
  return undefined;
}

/**
 * The NATS connection of `model.watch`: its own servers and credentials, or the `jetstream`
 * source's; a `credsFile` is read when connecting ({@link ModelReloader.start}).
 */
export function modelWatchConnection(
  watch: ModelWatchConfig,
  source: SourceConfig,
): NodeConnectionOptions & { readonly credsFile?: string } {
  const own = watch.servers !== undefined;
  const from = own || source.kind !== 'jetstream' ? watch : source;
  const servers = watch.servers ?? (source.kind === 'jetstream' ? source.servers : []);
  const tls = from.tls;
  return {
    servers,
    name: 'cubestream-model-watch',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    ...(from.user === undefined ? {} : { user: from.user }),
    ...(from.pass === undefined ? {} : { pass: from.pass }),
    ...(from.token === undefined ? {} : { token: from.token }),
    ...(from.credsFile === undefined ? {} : { credsFile: from.credsFile }),
    ...(tls === undefined
      ? {}
      : {
          tls: {
            ...(tls.caFile === undefined ? {} : { caFile: tls.caFile }),
            ...(tls.certFile === undefined ? {} : { certFile: tls.certFile }),
            ...(tls.keyFile === undefined ? {} : { keyFile: tls.keyFile }),
            ...(tls.rejectUnauthorized ? {} : { rejectUnauthorized: false }),
          },
        }),
  };
}

/** Options of {@link ModelReloader}. */
export interface ModelReloaderOptions {
  /** The `model.watch` section. */
  readonly watch: ModelWatchConfig;
  /** The `source` section (its connection serves when `watch.servers` is absent). */
  readonly source: SourceConfig;
  /** The model the service started with. */
  readonly first: ModelLane;
  /** Builds a model's pipeline (the service's `deepSvddPipeline` with its hooks). */
  readonly build: (lane: ModelLane, context: LaneContext) => OperatorFunction<CubeFrame, DecidedFrame>;
  /** The source's rows (early rows), handed to the model frames go to. */
  readonly rows?: Observable<RowsReady>;
  /** `frame` with `assemble: frame`: a switch waits for a frame's first block. */
  readonly boundary?: SwitchBoundary;
  /** Creates a scorer for a bundle, as the service does for its first one. */
  readonly createScorer: (bundle: LoadedBundle) => Scorer;
  /** Warms a new scorer as the service warmed its first one; resolves with the milliseconds it took. */
  readonly warm: (bundle: LoadedBundle, scorer: Scorer) => Promise<number>;
  /** Called when a model takes over (its version goes into status, metrics and health). */
  readonly onModel: (bundle: LoadedBundle) => void;
  readonly metrics: Pick<CubestreamMetrics, 'modelSwitches' | 'modelRefused'>;
  readonly logger: Logger;
}

/** A model the reloader could not take, with why. */
class Refused extends Error {
  constructor(
    readonly reason: ModelRefuseReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Follows `model.watch.key` and switches models. `operator` is the pipeline to put behind the
 * source; {@link ModelReloader.start} connects and waits (at most `startWaitMs`) for the key's
 * current model; {@link ModelReloader.close} stops watching, closes the connection and the
 * scorers of models that never ran.
 *
 * @example
 * ```ts
 * import { deepSvddPipeline } from 'cubestream/operators';
 * import { createScorer, type Scorer } from 'cubestream';
 * import type { ModelWatchConfig } from './run-config.js';
 * declare const watch: ModelWatchConfig;
 * declare const scorer: Scorer;
 * const reloader = new ModelReloader({
 *   watch, source: config.source, first: { bundle, scorer }, metrics, logger,
 *   build: (lane, { rows }) => deepSvddPipeline(lane.bundle, { scoreWith: lane.scorer, earlyRows: rows }),
 *   createScorer: (b) => createScorer(b),
 *   warm: async (_b, s) => { await s.warm(); return 0; },
 *   onModel: (b) => metrics.setModelInfo(b.manifest.version, b.weightsSha256),
 * });
 * await reloader.start();
 * camera.frames.pipe(reloader.operator).subscribe((decided) => sink.publish(decided.decision));
 * ```
 */
export class ModelReloader {
  /** Frames in, decisions out: the running model's pipeline, switched when the key changes. */
  readonly operator: OperatorFunction<CubeFrame, DecidedFrame>;
  readonly #lanes: SwitchingPipeline<ModelLane>;
  readonly #options: ModelReloaderOptions;
  readonly #log: Logger;
  #nc: NatsConnection | undefined;
  #watch: ModelKeyWatch | undefined;
  #closed = false;
  #running: Promise<void> | undefined;
  #initial: (() => void) | undefined;

  constructor(options: ModelReloaderOptions) {
    this.#options = options;
    this.#log = options.logger.child({ component: 'model-watch' });
    for (const reason of MODEL_REFUSE_REASONS) options.metrics.modelRefused.inc({ reason }, 0);
    options.metrics.modelSwitches.inc(0);
    this.#lanes = new SwitchingPipeline<ModelLane>(options.first, {
      build: options.build,
      ...(options.rows === undefined ? {} : { rows: options.rows }),
      ...(options.boundary === undefined ? {} : { boundary: options.boundary }),
      onSwitch: (from, to, frames) => {
        options.metrics.modelSwitches.inc();
        this.#log.info(
          {
            from: from.bundle.manifest.version,
            to: to.bundle.manifest.version,
            sha256: to.bundle.weightsSha256,
            framesBefore: frames,
            threshold: to.bundle.calibration.threshold,
          },
          'model switched',
        );
        options.onModel(to.bundle);
      },
      // Its last block decided: the scorer's workers stop (closing twice is harmless).
      onRetired: (lane) => void lane.scorer.close(),
    });
    this.operator = this.#lanes.operator;
  }

  /** The model frames go to now. */
  get current(): ModelLane {
    return this.#lanes.current;
  }

  /**
   * Connects (retrying in the background while the server is away) and starts watching; resolves
   * once the key's current model was taken (or refused, or the key is empty), or after
   * `startWaitMs`, whichever comes first.
   */
  async start(): Promise<void> {
    const initial = new Promise<void>((resolve) => {
      this.#initial = resolve;
    });
    this.#running = this.#run().catch((error: unknown) => {
      if (!this.#closed)
        this.#log.error({ err: error }, 'model watch stopped: the running model stays until a restart');
      this.#initialDone();
    });
    const wait = this.#options.watch.startWaitMs;
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      initial.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), wait);
      }),
    ]);
    clearTimeout(timer);
    if (!waited)
      this.#log.warn(
        { key: this.#options.watch.key, waitedMs: wait },
        "model key not read in time: starting with model.path; the key's model follows when ready",
      );
  }

  /** Stops watching and closes the connection; models prepared and never run are closed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch?.stop();
    this.#lanes.retireAll();
    const nc = this.#nc;
    if (nc !== undefined && !nc.isClosed()) await nc.close().catch(() => undefined);
    await this.#running;
  }

  #initialDone(): void {
    this.#initial?.();
    this.#initial = undefined;
  }

  async #run(): Promise<void> {
    const { watch } = this.#options;
    const { credsFile, ...connection } = modelWatchConnection(watch, this.#options.source);
    const target = redactUrl([connection.servers ?? []].flat().join(','));
    if (credsFile !== undefined)
      connection.authenticator = credsAuthenticator(new Uint8Array(await readFile(credsFile)));
    const nc = await connectNats(connection, {
      isClosed: () => this.#closed,
      onAttemptFailed: (error, attempt, retryInMs) =>
        this.#log.warn(
          { err: error, attempt, retryInMs, servers: target },
          'model watch cannot reach NATS; retrying',
        ),
      fatal: (kind, detail, cause) =>
        new Error(
          `model watch: ${target}: ${kind === 'tls' ? 'TLS failed' : 'refused the credentials'}: ${detail}`,
          {
            cause,
          },
        ),
    });
    if (this.#closed) {
      await nc.close();
      return;
    }
    this.#nc = nc;
    const store = new ModelStore(nc, { bucket: watch.bucket, store: watch.store });
    this.#log.info({ servers: target, bucket: watch.bucket, key: watch.key }, 'watching the model key');
    while (!this.#closed) {
      try {
        let first = true;
        this.#watch = await store.watch(watch.key, async (entry) => {
          await this.#take(store, entry);
          first = false;
          this.#initialDone();
        });
        // An empty key delivers nothing: the current model is model.path's.
        if (first && (await store.pointer(watch.key).catch(() => undefined)) === undefined)
          this.#initialDone();
        await this.#watch.ended;
      } catch (error) {
        if (this.#closed) return;
        this.#log.warn({ err: error, key: watch.key }, 'model watch failed; watching again');
      }
      if (!this.#closed) await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  /** Takes one value of the key: the model it points at, unless it runs already. */
  async #take(store: ModelStore, entry: KvEntry | undefined): Promise<void> {
    const { key } = this.#options.watch;
    if (entry === undefined) {
      this.#log.warn({ key }, 'model key deleted: the running model goes on');
      return;
    }
    try {
      let pointer: ReturnType<typeof parsePointer>;
      try {
        pointer = parsePointer(entry);
      } catch (error) {
        throw new Refused('pointer', asError(error).message, { cause: error });
      }
      const target = this.#lanes.pending ?? this.#lanes.current;
      if (
        target.bundle.manifest.version === pointer.version &&
        target.bundle.weightsSha256 === pointer.weightsSha256
      ) {
        this.#log.info(
          { key, version: pointer.version, revision: entry.revision },
          'model key: this model runs already',
        );
        return;
      }
      this.#log.info(
        { key, version: pointer.version, revision: entry.revision, previous: pointer.previous },
        'model key changed: loading',
      );
      const lane = await this.#prepare(store, pointer);
      if (this.#closed || !this.#lanes.switchTo(lane)) void lane.scorer.close();
    } catch (error) {
      const refused =
        error instanceof Refused ? error : new Refused('download', asError(error).message, { cause: error });
      if (this.#closed) {
        this.#log.debug({ key, err: refused }, 'model not loaded: stopping');
        return;
      }
      this.#options.metrics.modelRefused.inc({ reason: refused.reason });
      this.#log.error(
        {
          key,
          revision: entry.revision,
          reason: refused.reason,
          err: refused.cause ?? refused,
          running: this.#lanes.current.bundle.manifest.version,
        },
        `model refused (${refused.reason}): ${refused.message}; the running model goes on`,
      );
    }
  }

  async #prepare(store: ModelStore, pointer: ReturnType<typeof parsePointer>): Promise<ModelLane> {
    let bytes: Uint8Array;
    try {
      bytes = await store.download(pointer);
    } catch (error) {
      const reason = error instanceof ModelIntegrityError ? 'verify' : 'download';
      throw new Refused(reason, asError(error).message, { cause: error });
    }
    const dir = await mkdtemp(join(tmpdir(), 'cubestream-model-'));
    let bundle: LoadedBundle;
    try {
      await unpackBundleArchive(bytes, dir);
      bundle = await loadVerifiedBundle(dir);
    } catch (error) {
      throw new Refused('verify', asError(error).message, { cause: error });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    if (bundle.manifest.version !== pointer.version)
      throw new Refused(
        'verify',
        `the archive holds version ${bundle.manifest.version}, the key says ${pointer.version}`,
      );
    if (bundle.weightsSha256 !== pointer.weightsSha256)
      throw new Refused(
        'verify',
        `the weights have SHA-256 ${bundle.weightsSha256}, the key says ${pointer.weightsSha256}`,
      );
    const mismatch = inputMismatch(this.#lanes.current.bundle.manifest.input, bundle.manifest.input);
    if (mismatch !== undefined) throw new Refused('input', `it takes other frames (${mismatch})`);
    let scorer: Scorer;
    try {
      scorer = this.#options.createScorer(bundle);
    } catch (error) {
      throw new Refused('scorer', asError(error).message, { cause: error });
    }
    try {
      const ms = await this.#options.warm(bundle, scorer);
      this.#log.info(
        {
          version: bundle.manifest.version,
          scorer: scorer.engine,
          workers: scorer.workers,
          ms: Math.round(ms),
        },
        'new model verified and warmed up',
      );
    } catch (error) {
      await scorer.close();
      throw new Refused('scorer', asError(error).message, { cause: error });
    }
    return { bundle, scorer };
  }
}
