/**
 * The settings of the broker-fed sources (`mqttFrames`, `natsFrames`) a configuration holds,
 * with their defaults: the one home of those defaults (the sources fall back on
 * {@link MQTT_SOURCE_DEFAULTS} and {@link NATS_SOURCE_DEFAULTS}; the run configuration's
 * `source` section of kind `mqtt` or `nats` is one of these schemas plus the broker, its
 * credentials and TLS).
 */
import { z } from 'zod';
import { CAMERA_ID_PATTERN, CAMERA_ID_RULE } from '../../src/core/camera-id.js';
import { DEFAULT_CAMERA_ID } from '../../src/core/frame.js';
import { DEFAULT_MAX_CAMERAS } from './camera-gate.js';

const CameraId = z.string().regex(CAMERA_ID_PATTERN, CAMERA_ID_RULE);

/**
 * Which cameras a broker source admits. The topic/subject decides a frame's camera; a frame whose
 * metadata names another is rejected, and so is a camera that is not listed (unless
 * `acceptUnlistedCameras`, then up to `maxCameras` in all): rejected frames are counted under
 * the camera label `_unknown` and dead-lettered.
 */
export const BrokerCamerasSchema = z.strictObject({
  /** The cameras admitted; their status connections open at start. */
  cameraIds: z.array(CameraId).min(1).default([DEFAULT_CAMERA_ID]),
  /** Admit cameras not in `cameraIds` too, up to `maxCameras`. */
  acceptUnlistedCameras: z.boolean().default(false),
  /** Most distinct cameras admitted (listed ones included). */
  maxCameras: z.number().int().positive().max(1024).default(DEFAULT_MAX_CAMERAS),
});

/** Settings of `mqttFrames`: safetensors frame messages from an MQTT broker. */
export const MqttSourceSettingsSchema = BrokerCamerasSchema.extend({
  /** Topic filter; the `+` level is the camera id. */
  topic: z.string().min(1).default('cubestream/+/frames'),
  /** Subscription QoS. */
  qos: z.union([z.literal(0), z.literal(1)]).default(1),
});

/** Settings of `natsFrames`: safetensors frame messages from NATS. */
export const NatsSourceSettingsSchema = BrokerCamerasSchema.extend({
  /** Subject; the last token is the camera id. */
  subject: z.string().min(1).default('cubestream.frames.*'),
  /** Queue group: instances in the same group share the frames. */
  queue: z.string().min(1).optional(),
});

/** The defaults of {@link MqttSourceSettingsSchema}: the schema parsed from `{}`. */
export const MQTT_SOURCE_DEFAULTS = MqttSourceSettingsSchema.parse({});
/** The defaults of {@link NatsSourceSettingsSchema}: the schema parsed from `{}`. */
export const NATS_SOURCE_DEFAULTS = NatsSourceSettingsSchema.parse({});
