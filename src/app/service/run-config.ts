/**
 * The schema of `configs/run/*.yaml`, the configuration of `cubestream run`: which camera source,
 * which model bundle, the pipeline options, where decisions go, and the telemetry endpoints.
 * `configs/run/production.yaml` documents every field; every error names its YAML path.
 */
import { z } from 'zod';
import { DEFAULT_MAX_CAMERAS } from '../../../connectors/sources/camera-gate.js';
import { CAMERA_ID_PATTERN, CAMERA_ID_RULE } from '../../core/camera-id.js';
import { ENGINE_BACKENDS } from '../../scoring/engine.js';
import { LOG_LEVELS } from '../../telemetry/logger.js';
import { loadConfigFile } from '../config/load-config.js';
import { MetricsConfigSchema, ViewerConfigSchema } from './http-config.js';
import { SECRET_FILE_FIELDS } from './secret-file.js';

/** Camera ids as they appear in topics, subjects and metric labels. */
const CameraId = z.string().regex(CAMERA_ID_PATTERN, CAMERA_ID_RULE);
const PositiveInt = z.number().int().positive();
const Servers = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** TLS files of a broker connection. */
const TlsSchema = z.strictObject({
  caFile: z.string().min(1).optional(),
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  rejectUnauthorized: z.boolean().default(true),
});

/** `source.kind: simulated`: the simulated line-scan camera (options of `simulatedLineScan`). */
const SimulatedSourceSchema = z.strictObject({
  kind: z.literal('simulated'),
  cameraId: CameraId.default('cam0'),
  width: PositiveInt.default(256),
  preset: z.enum(['default', 'fx10', 'fx17']).default('default'),
  bands: PositiveInt.optional(),
  blockRows: PositiveInt.default(64),
  totalRows: PositiveInt.optional(),
  /** Pace at this line rate (real timers); absent: as fast as the pipeline takes the blocks. */
  linesPerSecond: z.number().positive().optional(),
  /** Stop after this many blocks (then the service drains, flushes and exits 0). */
  maxBlocks: PositiveInt.optional(),
  frames: PositiveInt.optional(),
  seed: z.number().int().nonnegative().default(1),
  anomalyRate: z.number().min(0).max(1).default(0.02),
  coverage: z.number().min(0).max(0.95).default(0.5),
  output: z.enum(['dn', 'reflectance']).default('dn'),
});

/** `source.kind: envi`: replay of ENVI cubes from disk. */
const EnviSourceSchema = z.strictObject({
  kind: z.literal('envi'),
  /** A `.hdr` file or a folder of them. */
  path: z.string().min(1),
  cameraId: CameraId.default('cam0'),
  blockRows: PositiveInt.optional(),
  linesPerSecond: z.number().positive().optional(),
  loop: z.boolean().default(false),
});

/**
 * MQTT credentials: the password inline (`${MQTT_PASSWORD}` takes it from the environment) or
 * from a file (a mounted secret), not both.
 */
const MqttCredentials = {
  username: z.string().optional(),
  password: z.string().optional(),
  /** A file holding the password (read at start, trimmed). */
  passwordFile: z.string().min(1).optional(),
};

/** NATS credentials: user and password, or a token; each inline or from a file, not both. */
const NatsCredentials = {
  user: z.string().optional(),
  pass: z.string().optional(),
  /** A file holding the password (read at start, trimmed). */
  passFile: z.string().min(1).optional(),
  token: z.string().optional(),
  /** A file holding the token (read at start, trimmed). */
  tokenFile: z.string().min(1).optional(),
};

/** A secret given both inline and as a file is refused, naming both fields. */
function oneSecretEach(section: Record<string, unknown>, ctx: z.RefinementCtx): void {
  for (const [value, file] of SECRET_FILE_FIELDS) {
    if (section[value] !== undefined && section[file] !== undefined) {
      ctx.addIssue({ code: 'custom', path: [file], message: `set ${value} or ${file}, not both` });
    }
  }
}

/**
 * Which cameras a broker source admits. The topic/subject decides a frame's camera; a frame whose
 * metadata names another is rejected, and so is a camera that is not listed (unless
 * `acceptUnlistedCameras`, then up to `maxCameras` in all): rejected frames are counted under
 * the camera label `_unknown` and dead-lettered.
 */
const BrokerCameras = {
  /** The cameras admitted; their status connections open at start. */
  cameraIds: z.array(CameraId).min(1).default(['cam0']),
  /** Admit cameras not in `cameraIds` too, up to `maxCameras`. */
  acceptUnlistedCameras: z.boolean().default(false),
  /** Most distinct cameras admitted (listed ones included). */
  maxCameras: PositiveInt.max(1024).default(DEFAULT_MAX_CAMERAS),
};

/** `source.kind: mqtt`: safetensors frame messages from an MQTT broker. */
const MqttSourceSchema = z
  .strictObject({
    kind: z.literal('mqtt'),
    url: z.string().min(1),
    topic: z.string().min(1).default('cubestream/+/frames'),
    qos: z.union([z.literal(0), z.literal(1)]).default(1),
    ...MqttCredentials,
    tls: TlsSchema.optional(),
    ...BrokerCameras,
  })
  .superRefine(oneSecretEach);

/** `source.kind: nats`: safetensors frame messages from NATS. */
const NatsSourceSchema = z
  .strictObject({
    kind: z.literal('nats'),
    servers: Servers,
    subject: z.string().min(1).default('cubestream.frames.*'),
    /** Queue group: instances in the same group share the frames. */
    queue: z.string().min(1).optional(),
    ...NatsCredentials,
    ...BrokerCameras,
  })
  .superRefine(oneSecretEach);

/** `source`: one camera connector, chosen by `kind`. */
export const SourceConfigSchema = z.discriminatedUnion('kind', [
  SimulatedSourceSchema,
  EnviSourceSchema,
  MqttSourceSchema,
  NatsSourceSchema,
]);

/** `pipeline`: options of `deepSvddPipeline` (DESIGN §3.5, §3.8, §3.9). */
const PipelineSchema = z.strictObject({
  threshold: z
    .strictObject({
      mode: z.enum(['rolling', 'per-frame']).default('rolling'),
      /** Quantile level (default: the bundle's calibration quantile). */
      q: z.number().gt(0).lt(1).optional(),
      windowFrames: PositiveInt.default(50),
      windowSeconds: z.number().positive().optional(),
      /** τ = quantile × margin (default: the bundle's calibration margin). */
      margin: z.number().positive().optional(),
      /**
       * Window summary (default ddsketch): `exact` keeps every score and selects the quantile anew
       * for each frame, on the latency path: ~19 ms per 65,536-pixel block with a 50-frame window
       * here, against 0.4 ms for one DDSketch per frame (1 % relative error, bounded memory).
       */
      sketch: z.enum(['exact', 'ddsketch']).default('ddsketch'),
      minSamples: PositiveInt.optional(),
    })
    .prefault({}),
  center: z
    .strictObject({
      mode: z.enum(['frozen', 'ema', 'gated-ema']).default('gated-ema'),
      alpha: z.number().gt(0).lte(1).default(0.005),
    })
    .prefault({}),
  decide: z
    .strictObject({
      /** Frame anomalous iff at least this many pixels are (used when `minArea` is absent). */
      minPixels: PositiveInt.optional(),
      /** Frame anomalous iff a blob has at least this many pixels (default 4 unless `minPixels` is set). */
      minArea: PositiveInt.optional(),
      connectivity: z.union([z.literal(4), z.literal(8)]).default(8),
      assemble: z.enum(['block', 'frame']).default('block'),
    })
    .prefault({}),
  backpressure: z
    .strictObject({
      policy: z.enum(['dropOldest', 'dropNewest', 'block']).default('dropOldest'),
      capacity: PositiveInt.default(4),
    })
    .prefault({}),
  /** Largest frame accepted, in values (H × W × C). */
  maxValues: PositiveInt.optional(),
  /** Scoring engine: auto (onnxruntime's fused graph when it fits the bundle), onnx, or tfjs. */
  scorer: z.enum(['auto', 'onnx', 'tfjs']).default('auto'),
  /**
   * Worker threads of the fused scorer (a block's chunks scored on all at once); absent: one
   * per core, at most 2; 0: score in the main thread on one session with `scorerThreads`.
   */
  scorerWorkers: z.number().int().min(0).max(64).optional(),
  /** onnxruntime intra-op threads of the in-thread session (`scorerWorkers: 0` only). */
  scorerThreads: PositiveInt.default(1),
  /**
   * Score the rows of a block while the camera is still capturing it, when the source publishes
   * them (the paced simulator) and the scorer is `onnx`: a block's decision then waits only for
   * its last rows. Results are the same either way.
   */
  earlyRows: z.boolean().default(true),
});

/** A capped exponential backoff, ms. */
function Backoff(initialMs: number, maxMs: number) {
  return z
    .strictObject({ initialMs: PositiveInt.default(initialMs), maxMs: PositiveInt.default(maxMs) })
    .prefault({});
}

/** Offline queue of a broker sink. */
const OfflineQueueSchema = z
  .strictObject({
    size: PositiveInt.optional(),
    overflow: z.enum(['drop-oldest', 'drop-newest']).default('drop-oldest'),
  })
  .prefault({});

/** `sinks.mqtt`: decisions, status and dead letters on MQTT. */
const MqttSinkSchema = z
  .strictObject({
    url: z.string().min(1),
    topicPrefix: z.string().min(1).default('cubestream'),
    /** `auto`: MQTT 5, falling back to 3.1.1 when the broker refuses it; or force 5 / 4 (= 3.1.1). */
    protocol: z.union([z.literal('auto'), z.literal(5), z.literal(4)]).default('auto'),
    messageExpirySeconds: z.number().int().nonnegative().default(60),
    offlineQueue: OfflineQueueSchema,
    ...MqttCredentials,
    tls: TlsSchema.optional(),
    clientIdPrefix: z.string().min(1).optional(),
    keepaliveSeconds: PositiveInt.default(30),
    connectTimeoutMs: z.number().int().nonnegative().default(10_000),
    /** Reconnect backoff: first delay, doubling up to the cap. */
    reconnect: Backoff(500, 30_000),
    /** Cameras whose connection and retained status open at start (default: the source's). */
    cameraIds: z.array(CameraId).min(1).optional(),
    /** Republish the retained status when τ moved by this share, at most every `minIntervalMs`. */
    statusRefresh: z
      .strictObject({
        minRelativeChange: z.number().nonnegative().default(0.05),
        minIntervalMs: z.number().int().nonnegative().default(5_000),
      })
      .prefault({}),
  })
  .superRefine(oneSecretEach);

/** `sinks.nats`: decisions on NATS (JetStream with de-duplication, or core). */
const NatsSinkSchema = z
  .strictObject({
    servers: Servers,
    mode: z.enum(['jetstream', 'core']).default('jetstream'),
    subjectPrefix: z.string().min(1).default('cubestream'),
    stream: z
      .strictObject({
        name: z.string().min(1).default('CUBESTREAM_DECISIONS'),
        create: z.boolean().default(true),
        duplicateWindowMs: PositiveInt.default(120_000),
        maxAgeMs: z.number().int().nonnegative().default(86_400_000),
        storage: z.enum(['file', 'memory']).default('file'),
        replicas: PositiveInt.default(1),
      })
      .prefault({}),
    offlineQueue: OfflineQueueSchema,
    publishTimeoutMs: PositiveInt.default(5_000),
    connectTimeoutMs: z.number().int().nonnegative().default(10_000),
    /** Wait between reconnect attempts of the NATS client. */
    reconnectTimeWaitMs: PositiveInt.default(1_000),
    /** Backoff between retries of the offline queue. */
    retry: Backoff(200, 10_000),
    ...NatsCredentials,
    credsFile: z.string().min(1).optional(),
    tls: TlsSchema.optional(),
  })
  .superRefine(oneSecretEach);

/**
 * `sinks.outbox`: a durable write-ahead outbox for the MQTT and NATS sinks. Each decision is
 * journaled under `<dir>/<sink>/` before it is sent and resolved on the broker's acknowledgement;
 * what a stop or a crash leaves unacknowledged is re-sent, oldest first, at the next start.
 */
const OutboxSchema = z
  .strictObject({
    /** Directory of the journals (one per sink); one service instance per directory. */
    dir: z.string().min(1),
    /** Rotate a journal segment past this size. */
    segmentBytes: PositiveInt.default(4 * 1024 * 1024),
    /** Most bytes per sink on disk; past it the oldest pending decisions are dropped and counted. */
    maxBytes: PositiveInt.default(256 * 1024 * 1024),
    /** fdatasync each write: also survives a power cut (a crash never loses a written decision). */
    fsync: z.boolean().default(false),
  })
  .refine((o) => o.maxBytes >= 2 * o.segmentBytes, {
    message: 'maxBytes must be at least 2 × segmentBytes',
    path: ['maxBytes'],
  });

/** `sinks`: any mix of MQTT, NATS and a JSONL file, plus where rejected frames go. */
const SinksSchema = z
  .strictObject({
    mqtt: MqttSinkSchema.optional(),
    nats: NatsSinkSchema.optional(),
    file: z.strictObject({ path: z.string().min(1) }).optional(),
    outbox: OutboxSchema.optional(),
    deadLetter: z
      .strictObject({
        /** Which configured sinks also carry dead letters (`<prefix>/<camera>/deadletter`, `cubestream.deadletter.<camera>`). */
        targets: z.array(z.enum(['mqtt', 'nats'])).default(['mqtt', 'nats']),
        /** A JSONL file of dead letters. */
        file: z.string().min(1).optional(),
      })
      .prefault({}),
  })
  .prefault({});

/** The whole `cubestream run` configuration. */
export const RunConfigSchema = z.strictObject({
  source: SourceConfigSchema,
  model: z.strictObject({
    /** Model bundle folder (relative paths resolve against the working directory). */
    path: z.string().min(1),
  }),
  pipeline: PipelineSchema.prefault({}),
  sinks: SinksSchema,
  /** /metrics, /healthz, /readyz (see `MetricsConfigSchema`). */
  metrics: MetricsConfigSchema.prefault({}),
  /** The live viewer (see `ViewerConfigSchema`). */
  viewer: ViewerConfigSchema.prefault({}),
  engine: z
    .strictObject({
      backend: z.enum(ENGINE_BACKENDS as readonly ['tensorflow', 'wasm', 'cpu', 'auto']).default('auto'),
    })
    .prefault({}),
  log: z
    .strictObject({
      /** Default: env `CUBESTREAM_LOG_LEVEL`, else `info`. */
      level: z.enum(LOG_LEVELS).optional(),
    })
    .prefault({}),
  shutdown: z
    .strictObject({
      /** From SIGINT/SIGTERM to exit: drain the pipeline, flush the sinks, close. Past it: exit 1. */
      deadlineMs: PositiveInt.default(10_000),
    })
    .prefault({}),
});

/** A validated `cubestream run` configuration, defaults filled in. */
export type RunConfig = z.output<typeof RunConfigSchema>;
/** The `source` section. */
export type SourceConfig = RunConfig['source'];
/** The `sinks` section. */
export type SinksConfig = RunConfig['sinks'];
/** The `pipeline` section. */
export type PipelineConfig = RunConfig['pipeline'];
/** A configuration as written (before defaults), e.g. built in code by `cubestream demo`. */
export type RunConfigInput = z.input<typeof RunConfigSchema>;

/**
 * Reads and validates a run configuration, applying `--set key.path=value` overrides first.
 *
 * @throws {@link ConfigError} naming the file and every bad YAML path
 * @example
 * ```ts
 * const config = await loadRunConfig('configs/run/demo.yaml', ['metrics.port=0']);
 * ```
 */
export function loadRunConfig(path: string, overrides: readonly string[] = []): Promise<RunConfig> {
  return loadConfigFile(RunConfigSchema, path, overrides);
}

/** Camera ids whose status connections open at start: the sink's list, else the source's. */
export function expectedCameraIds(config: Pick<RunConfig, 'source' | 'sinks'>): string[] {
  if (config.sinks.mqtt?.cameraIds !== undefined) return [...config.sinks.mqtt.cameraIds];
  const { source } = config;
  return source.kind === 'mqtt' || source.kind === 'nats' ? [...source.cameraIds] : [source.cameraId];
}
