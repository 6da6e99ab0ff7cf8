/**
 * The settings of `SparkplugDecisionSink` with their defaults: the one home of those defaults
 * (the sink falls back on {@link SPARKPLUG_SINK_DEFAULTS}; a run configuration's
 * `sinks.sparkplug` section is {@link SparkplugSinkConfigSchema}). docs/sparkplug.md describes
 * the edge node these settings configure.
 */
import { z } from 'zod';
import { CAMERA_ID_PATTERN, CAMERA_ID_RULE } from '../../../src/core/camera-id.js';
import { OptionError, valueAtPath } from '../../../src/core/options.js';
import { backoffSchema, NonNegativeInt, PositiveInt, sinkComponent } from '../sink-options.js';
import { isSparkplugId, SPARKPLUG_ID_RULE } from './topics.js';

/** A Sparkplug group, edge node or host id: UTF-8 without `+ / #` (see `isSparkplugId`). */
export const SparkplugIdSchema = z.string().refine(isSparkplugId, { message: SPARKPLUG_ID_RULE });

/** Camera ids, which become Sparkplug device ids (the camera-id grammar is stricter than Sparkplug's). */
const CameraIdSchema = z.string().regex(CAMERA_ID_PATTERN, CAMERA_ID_RULE);

/** TLS files of the broker connection (read in `connect()`). */
export const SparkplugTlsSchema = z.strictObject({
  /** PEM file of the CA(s) that signed the broker's certificate. */
  caFile: z.string().min(1).optional(),
  /** PEM client certificate (mutual TLS). */
  certFile: z.string().min(1).optional(),
  /** PEM private key of the client certificate. */
  keyFile: z.string().min(1).optional(),
  /** Verify the broker's certificate; default true. */
  rejectUnauthorized: z.boolean().default(true),
});

/** The tuning settings of the Sparkplug sink, each with its default. */
export const SparkplugSinkSettingsSchema = z.strictObject({
  /**
   * MQTT keep-alive in seconds; default 10. The broker publishes the NDEATH will after 1.5 x
   * this of silence, so it bounds how late a host learns of a dead edge node.
   */
  keepaliveSeconds: PositiveInt.default(10),
  /** Most devices (cameras) the edge node births; a decision for one more is dropped and counted. Default 64. */
  maxCameras: PositiveInt.max(10_000).default(64),
  /** Period of the per-device `Heartbeat` DDATA, ms; default 1000. */
  heartbeatMs: PositiveInt.default(1000),
  /** How long `connect()` waits for the first NBIRTH; 0 = do not wait; default 10 000. */
  connectTimeoutMs: NonNegativeInt.default(10_000),
  /** Reconnect backoff: default 500 ms doubling up to 30 s. */
  reconnect: backoffSchema(500, 30_000),
});

/** The defaults of {@link SparkplugSinkSettingsSchema}: the schema parsed from `{}`. */
export const SPARKPLUG_SINK_DEFAULTS = SparkplugSinkSettingsSchema.parse({});

/** Every setting of the Sparkplug sink: the broker, the Sparkplug ids, and the tuning. */
export const SparkplugSinkConfigSchema = SparkplugSinkSettingsSchema.extend({
  /** Broker URL: `mqtt://host:1883`, `mqtts://host:8883`, `ws://…`. */
  url: z.string().refine((url) => URL.canParse(url), { message: 'a URL such as mqtt://host:1883' }),
  /** Sparkplug group id (first topic level after `spBv1.0`). */
  groupId: SparkplugIdSchema,
  /** Sparkplug edge node id: this service instance. */
  edgeNodeId: SparkplugIdSchema,
  /** Host application id; when set, the node births only while `spBv1.0/STATE/<id>` says `online: true`. */
  primaryHostId: SparkplugIdSchema.optional(),
  /** Devices born at start, one per camera (more are born on their first decision); default none. */
  cameraIds: z.array(CameraIdSchema).default([]),
  /**
   * File where bdSeq persists across restarts (written before each CONNECT). Without it bdSeq
   * starts at 0 on every start, and a host may take the old session's late NDEATH for the new one.
   */
  bdSeqFile: z.string().min(1).optional(),
  /** MQTT client id; default `spb-<groupId>-<edgeNodeId>`. */
  clientId: z.string().min(1).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  tls: SparkplugTlsSchema.optional(),
});

/** A Sparkplug sink configuration as written (defaults may be left out). */
export type SparkplugSinkConfigInput = z.input<typeof SparkplugSinkConfigSchema>;

/** A Sparkplug sink configuration with its defaults filled in. */
export type SparkplugSinkConfig = z.output<typeof SparkplugSinkConfigSchema>;

/**
 * Validates a configuration and fills in the defaults.
 *
 * @param sink - sink name, for the error
 * @throws `OptionError` naming the first setting at fault, e.g.
 *   `sparkplug sink option groupId = "a/b": must be a non-empty UTF-8 string without "+", "/", "#" or NUL`
 */
export function parseSparkplugConfig(
  input: SparkplugSinkConfigInput,
  sink = 'sparkplug',
): SparkplugSinkConfig {
  const result = SparkplugSinkConfigSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw new OptionError(
        sinkComponent(sink),
        issue.keys.join(', '),
        '(unknown)',
        'not a setting of this sink',
      );
    }
    const path = issue?.path ?? [];
    // Never echo a secret (a URL may hold credentials).
    const value = path[0] === 'password' || path[0] === 'url' ? '***' : valueAtPath(input, path);
    throw new OptionError(
      sinkComponent(sink),
      path.join('.') || '(options)',
      value,
      issue?.message ?? 'invalid',
    );
  }
  const config = result.data;
  if (config.cameraIds.length > config.maxCameras) {
    throw new OptionError(
      sinkComponent(sink),
      'cameraIds',
      config.cameraIds,
      `at most maxCameras (${config.maxCameras}) cameras`,
    );
  }
  return config;
}
