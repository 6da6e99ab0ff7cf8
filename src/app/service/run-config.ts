/**
 * The schema of `configs/run/*.yaml`, the configuration of `cubestream run`: which camera source,
 * which model bundle, the pipeline options, where decisions go, and the telemetry endpoints.
 * `configs/run/production.yaml` documents every field; every error names its YAML path.
 */
import { z } from 'zod';
import { MODEL_STORE_DEFAULTS } from '../../../connectors/shared/model-store.js';
import { CaptureSettingsSchema } from '../../../connectors/sinks/capture/capture-options.js';
import { MqttSinkSettingsSchema } from '../../../connectors/sinks/mqtt-sink-options.js';
import { NatsSinkSettingsSchema } from '../../../connectors/sinks/nats-sink-options.js';
import { opcuaSinkOptionsSchema } from '../../../connectors/sinks/opcua/opcua-sink-options.js';
import { SparkplugSinkConfigSchema } from '../../../connectors/sinks/sparkplug/sparkplug-sink-options.js';
import {
  JetStreamSourceSettingsSchema,
  MqttSourceSettingsSchema,
  NatsSourceSettingsSchema,
} from '../../../connectors/sources/broker-source-options.js';
import { GenicamSourceSettingsSchema } from '../../../connectors/sources/genicam/genicam-source-options.js';
import { SimulatedSourceSettingsSchema } from '../../../connectors/sources/simulated-source-options.js';
import { ejectorOptionsSchema } from '../../../operators/eject-options.js';
import { PipelineSettingsSchema } from '../../../operators/pipeline-options.js';
import { CAMERA_ID_PATTERN, CAMERA_ID_RULE } from '../../core/camera-id.js';
import { DEFAULT_CAMERA_ID } from '../../core/frame.js';
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

/**
 * `source.kind: simulated`: the simulated line-scan camera; settings and defaults are
 * `SimulatedSourceSettingsSchema`'s (next to the simulator).
 */
const SimulatedSourceSchema = SimulatedSourceSettingsSchema.extend({ kind: z.literal('simulated') });

/**
 * `source.kind: genicam`: a GenICam line-scan camera (GigE Vision, USB3 Vision) through Aravis;
 * settings and defaults are `GenicamSourceSettingsSchema`'s (next to the source).
 */
const GenicamSourceSchema = GenicamSourceSettingsSchema.extend({ kind: z.literal('genicam') });

/** `source.kind: envi`: replay of ENVI cubes from disk. */
const EnviSourceSchema = z.strictObject({
  kind: z.literal('envi'),
  /** A `.hdr` file or a folder of them. */
  path: z.string().min(1),
  cameraId: CameraId.default(DEFAULT_CAMERA_ID),
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
 * `source.kind: mqtt`: safetensors frame messages from an MQTT broker; topic, QoS and the
 * cameras admitted are `MqttSourceSettingsSchema`'s (next to the source), here the broker.
 */
const MqttSourceSchema = MqttSourceSettingsSchema.extend({
  kind: z.literal('mqtt'),
  url: z.string().min(1),
  ...MqttCredentials,
  tls: TlsSchema.optional(),
}).superRefine(oneSecretEach);

/**
 * `source.kind: nats`: safetensors frame messages from NATS; subject, queue group and the
 * cameras admitted are `NatsSourceSettingsSchema`'s (next to the source), here the servers.
 */
const NatsSourceSchema = NatsSourceSettingsSchema.extend({
  kind: z.literal('nats'),
  servers: Servers,
  ...NatsCredentials,
}).superRefine(oneSecretEach);

/**
 * `source.kind: jetstream`: safetensors frames stored in a JetStream stream (the camera
 * gateway's), read by a durable pull consumer and acknowledged once their decision was delivered
 * by every sink; stream, subject prefix, durable name, ack wait, max ack pending, max deliver and
 * the cameras admitted are `JetStreamSourceSettingsSchema`'s (next to the source), here the
 * servers, credentials and TLS.
 */
const JetStreamSourceSchema = JetStreamSourceSettingsSchema.extend({
  kind: z.literal('jetstream'),
  servers: Servers,
  ...NatsCredentials,
  credsFile: z.string().min(1).optional(),
  tls: TlsSchema.optional(),
}).superRefine(oneSecretEach);

/** `source`: one camera connector, chosen by `kind`. */
export const SourceConfigSchema = z.discriminatedUnion('kind', [
  SimulatedSourceSchema,
  GenicamSourceSchema,
  EnviSourceSchema,
  MqttSourceSchema,
  NatsSourceSchema,
  JetStreamSourceSchema,
]);

/** The `source` kinds fed by a broker, which admit a list of cameras. */
export type BrokerSourceConfig = Extract<
  z.output<typeof SourceConfigSchema>,
  { kind: 'mqtt' | 'nats' | 'jetstream' }
>;

/** True for a source fed by a broker (`mqtt`, `nats`, `jetstream`), which admits `cameraIds`. */
export function isBrokerSource(source: z.output<typeof SourceConfigSchema>): source is BrokerSourceConfig {
  return source.kind === 'mqtt' || source.kind === 'nats' || source.kind === 'jetstream';
}

/**
 * `pipeline`: the settings of `deepSvddPipeline` (docs/maths.md §3.5, §3.8, §3.9), defaults from their
 * one home, `PipelineSettingsSchema`; plus whether the service wires the source's early rows.
 */
const PipelineSchema = PipelineSettingsSchema.extend({
  /**
   * Score the rows of a block while the camera is still capturing it, when the source publishes
   * them (the paced simulator) and the scorer is `onnx`: a block's decision then waits only for
   * its last rows. Results are the same either way.
   */
  earlyRows: z.boolean().default(true),
});

/**
 * `sinks.mqtt`: decisions, status and dead letters on MQTT. The sink's settings and defaults
 * are `MqttSinkSettingsSchema`'s (next to the sink); here the broker, its credentials and TLS,
 * and the service's camera list and status refresh.
 */
const MqttSinkSchema = MqttSinkSettingsSchema.extend({
  url: z.string().min(1),
  ...MqttCredentials,
  tls: TlsSchema.optional(),
  /** Client ids are `<prefix>-<camera>`; default `cubestream-<8 random hex>`. */
  clientIdPrefix: z.string().min(1).optional(),
  /** Cameras whose connection and retained status open at start (default: the source's). */
  cameraIds: z.array(CameraId).min(1).optional(),
  /** Republish the retained status when τ moved by this share, at most every `minIntervalMs`. */
  statusRefresh: z
    .strictObject({
      minRelativeChange: z.number().nonnegative().default(0.05),
      minIntervalMs: z.number().int().nonnegative().default(5_000),
    })
    .prefault({}),
}).superRefine(oneSecretEach);

/**
 * `sinks.nats`: decisions on NATS (JetStream with de-duplication, or core). The sink's settings
 * and defaults are `NatsSinkSettingsSchema`'s (next to the sink); here the servers, credentials
 * and TLS.
 */
const NatsSinkSchema = NatsSinkSettingsSchema.extend({
  servers: Servers,
  ...NatsCredentials,
  credsFile: z.string().min(1).optional(),
  tls: TlsSchema.optional(),
}).superRefine(oneSecretEach);

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

/** `sinks`: any mix of MQTT, NATS, a JSONL file, an OPC UA server and a Sparkplug B edge node, plus where rejected frames go and which blocks are captured to disk. */
const SinksSchema = z
  .strictObject({
    mqtt: MqttSinkSchema.optional(),
    nats: NatsSinkSchema.optional(),
    file: z.strictObject({ path: z.string().min(1) }).optional(),
    /** An OPC UA server for PLCs and SCADA (`Objects/Cameras/<camera>/...`, events); see docs/plc.md. */
    opcua: opcuaSinkOptionsSchema.optional(),
    /** A Sparkplug B 3.0 edge node on an MQTT broker (a device per camera); see docs/sparkplug.md. */
    sparkplug: SparkplugSinkConfigSchema.optional(),
    outbox: OutboxSchema.optional(),
    /**
     * Anomalous blocks (and a sample of normal ones) saved as ENVI cubes with their score map,
     * predicted mask and decision, under a disk budget; see docs/capture.md.
     */
    capture: CaptureSettingsSchema.optional(),
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

/** KV bucket names and keys as JetStream takes them. */
const KvName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');
const KvKey = z.string().regex(/^[-/_=.a-zA-Z0-9]+$/, 'letters, digits and - / _ = . only');

/**
 * `model.watch`: the hot model reload (docs/model-rollout.md). The service follows one key of
 * the KV bucket `bucket` (`cubestream model push` writes it); whenever it points at another
 * version, the bundle is downloaded from the Object Store `store`, verified, warmed beside the
 * running one and switched to between two blocks. The connection is the `jetstream` source's
 * (servers, credentials, TLS) unless `servers` is given here.
 */
const ModelWatchSchema = z.strictObject({
  /** NATS server(s); default: the `jetstream` source's, with its credentials and TLS. */
  servers: Servers.optional(),
  user: z.string().optional(),
  pass: z.string().optional(),
  token: z.string().optional(),
  credsFile: z.string().min(1).optional(),
  tls: TlsSchema.optional(),
  /** KV bucket of the model pointers. */
  bucket: KvName.default(MODEL_STORE_DEFAULTS.bucket),
  /** Object Store bucket of the bundle archives. */
  store: KvName.default(MODEL_STORE_DEFAULTS.store),
  /** The key this service follows: `default`, or `camera.<id>` for a camera's own model. */
  key: KvKey.default(MODEL_STORE_DEFAULTS.key),
  /**
   * At start, how long the service waits for the key's current model before it takes the first
   * frame from the source (ms): within it the first block is decided by that model; past it, by
   * `model.path` until the key's model is ready. 0: never wait.
   */
  startWaitMs: z.number().int().nonnegative().default(10_000),
});

/** The whole `cubestream run` configuration. */
export const RunConfigSchema = z
  .strictObject({
    source: SourceConfigSchema,
    model: z.strictObject({
      /** Model bundle folder (relative paths resolve against the working directory). */
      path: z.string().min(1),
      /** Follow a model key on JetStream and switch models while running (docs/model-rollout.md); absent: off. */
      watch: ModelWatchSchema.optional(),
    }),
    pipeline: PipelineSchema.prefault({}),
    sinks: SinksSchema,
    /** Air-jet eject commands for each anomalous blob, timed to the belt (docs/ejectors.md); absent: none. */
    ejector: ejectorOptionsSchema.optional(),
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
  })
  .superRefine((config, ctx) => {
    // A frame assembled from blocks keeps only its first block's ack: the other blocks would be
    // delivered again and again. A JetStream worker decides block by block.
    if (config.source.kind === 'jetstream' && config.pipeline.decide.assemble === 'frame') {
      ctx.addIssue({
        code: 'custom',
        path: ['pipeline', 'decide', 'assemble'],
        message: 'source.kind jetstream acknowledges each block on its own decision: use assemble: block',
      });
    }
    if (
      config.model.watch !== undefined &&
      config.model.watch.servers === undefined &&
      config.source.kind !== 'jetstream'
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['model', 'watch', 'servers'],
        message: 'required unless source.kind is jetstream (whose servers and credentials it then uses)',
      });
    }
  });

/** A validated `cubestream run` configuration, defaults filled in. */
export type RunConfig = z.output<typeof RunConfigSchema>;
/** The `source` section. */
export type SourceConfig = RunConfig['source'];
/** The `sinks` section. */
export type SinksConfig = RunConfig['sinks'];
/** The `model.watch` section (hot model reload), when present. */
export type ModelWatchConfig = NonNullable<RunConfig['model']['watch']>;
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
  return isBrokerSource(source) ? [...source.cameraIds] : [source.cameraId];
}
