/**
 * The settings of `MqttDecisionSink` a configuration holds, with their defaults: the one
 * home of those defaults (the sink falls back on {@link MQTT_SINK_DEFAULTS}; the run
 * configuration's `sinks.mqtt` section is this schema plus the broker's URL, credentials, TLS
 * and the service's status refresh).
 */
import { z } from 'zod';
import { backoffSchema, NonNegativeInt, offlineQueueSchema, PositiveInt } from './sink-options.js';

/** Settings of the MQTT decision sink (docs/wire-format.md §2). */
export const MqttSinkSettingsSchema = z.strictObject({
  /** `<prefix>/<camera>/decisions`, `/status` (retained, last will offline), `/deadletter`. */
  topicPrefix: z.string().min(1).default('cubestream'),
  /** `auto`: MQTT 5, falling back to 3.1.1 when the broker refuses it; or force 5 / 4 (= 3.1.1). */
  protocol: z.union([z.literal('auto'), z.literal(5), z.literal(4)]).default('auto'),
  /** MQTT 5 message expiry of decisions in seconds (not sent on 3.1.1); 0 = none. */
  messageExpirySeconds: NonNegativeInt.default(60),
  /** Per-camera offline queue while the broker is unreachable. */
  offlineQueue: offlineQueueSchema(1000),
  /** MQTT keep-alive in seconds. */
  keepaliveSeconds: PositiveInt.default(30),
  /** How long `connect()` waits for every camera's first connection; 0 = do not wait. */
  connectTimeoutMs: NonNegativeInt.default(10_000),
  /** Reconnect backoff: first delay, doubling up to the cap. */
  reconnect: backoffSchema(500, 30_000),
});

/** The defaults of {@link MqttSinkSettingsSchema}: the schema parsed from `{}`. */
export const MQTT_SINK_DEFAULTS = MqttSinkSettingsSchema.parse({});
