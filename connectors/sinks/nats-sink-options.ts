/**
 * The settings of `NatsDecisionSink` a configuration holds, with their defaults: the one
 * home of those defaults (the sink and `ensureDecisionStream` fall back on
 * {@link NATS_SINK_DEFAULTS}; the run configuration's `sinks.nats` section is this schema plus
 * the servers, credentials and TLS).
 */
import { z } from 'zod';
import { backoffSchema, NonNegativeInt, offlineQueueSchema, PositiveInt } from './sink-options.js';

/** The JetStream stream that stores decisions. */
export const DecisionStreamSchema = z.strictObject({
  /** Stream name. */
  name: z.string().min(1).default('CUBESTREAM_DECISIONS'),
  /** Create the stream when missing; false: only check it exists and covers the subjects. */
  create: z.boolean().default(true),
  /** De-duplication window of `Nats-Msg-Id`, ms; must exceed the longest outage. */
  duplicateWindowMs: PositiveInt.default(120_000),
  /** Oldest message kept, ms; 0 = unlimited (default 24 h). */
  maxAgeMs: NonNegativeInt.default(86_400_000),
  /** `file` or `memory`. */
  storage: z.enum(['file', 'memory']).default('file'),
  /** Replicas in a cluster. */
  replicas: PositiveInt.default(1),
});

/** Settings of the NATS decision sink (JetStream with de-duplication, or core). */
export const NatsSinkSettingsSchema = z.strictObject({
  /** `jetstream`: stored, de-duplicated, acknowledged; `core`: plain publish + flush. */
  mode: z.enum(['jetstream', 'core']).default('jetstream'),
  /** First subject token: `<prefix>.decisions.<camera>`, `<prefix>.deadletter.<camera>`. */
  subjectPrefix: z.string().min(1).default('cubestream'),
  stream: DecisionStreamSchema.prefault({}),
  /** Offline queue while the server is unreachable. */
  offlineQueue: offlineQueueSchema(10_000),
  /** Wait for a JetStream PubAck, ms. */
  publishTimeoutMs: PositiveInt.default(5_000),
  /** How long `connect()` waits for the first connection and stream check; 0 = do not wait. */
  connectTimeoutMs: NonNegativeInt.default(10_000),
  /** Wait between reconnect attempts of the NATS client, ms. */
  reconnectTimeWaitMs: PositiveInt.default(1_000),
  /** Backoff between retries of the offline queue. */
  retry: backoffSchema(200, 10_000),
});

/** The defaults of {@link NatsSinkSettingsSchema}: the schema parsed from `{}`. */
export const NATS_SINK_DEFAULTS = NatsSinkSettingsSchema.parse({});
