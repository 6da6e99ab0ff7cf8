/**
 * The settings of the broker-fed sources (`mqttFrames`, `natsFrames`, `jetstreamFrames`) a
 * configuration holds, with their defaults: the one home of those defaults (the sources fall back
 * on {@link MQTT_SOURCE_DEFAULTS}, {@link NATS_SOURCE_DEFAULTS} and
 * {@link JETSTREAM_SOURCE_DEFAULTS}; the run configuration's `source` section of kind `mqtt`,
 * `nats` or `jetstream` is one of these schemas plus the broker, its credentials and TLS).
 */
import { z } from 'zod';
import { CAMERA_ID_PATTERN, CAMERA_ID_RULE } from '../../src/core/camera-id.js';
import { DEFAULT_CAMERA_ID } from '../../src/core/frame.js';
import { CAMERA_LEASE_DEFAULTS } from '../shared/camera-leases.js';
import { CAMERA_STATE_DEFAULTS } from '../shared/camera-state-store.js';
import { FRAME_STREAM_DEFAULTS } from '../sinks/frame-stream.js';
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

/**
 * Settings of `jetstreamFrames`: safetensors frame messages stored in a JetStream stream (the
 * camera gateway's, `cubestream publish`), consumed by a durable pull consumer with explicit acks:
 * a frame is acknowledged only once its decision was delivered by every sink, so a frame survives
 * a worker that stops or dies (it comes back after `ackWaitSeconds`).
 */
export const JetStreamSourceSettingsSchema = BrokerCamerasSchema.extend({
  /** The stream holding the frames; created when missing (with `createStream`), else checked. */
  stream: z.string().min(1).default(FRAME_STREAM_DEFAULTS.name),
  /** Create the stream (subjects `<subjectPrefix>.frames.>`) when it is missing; false: only check it. */
  createStream: z.boolean().default(true),
  /** First subject token: frames are on `<subjectPrefix>.frames.<cameraId>`. */
  subjectPrefix: z
    .string()
    .min(1)
    .regex(/^[^\s*>]+$/, 'a NATS subject prefix: no spaces, `*` or `>`')
    .default('cubestream'),
  /**
   * The durable pull consumer: workers with the same name share its frames (each frame goes to
   * one of them) and a restarted worker resumes where the last one left off.
   */
  durable: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, '1-64 characters of [A-Za-z0-9_-]')
    .default('cubestream-worker'),
  /** How long the server waits for a frame's ack before it delivers the frame again, s. */
  ackWaitSeconds: z.number().positive().max(86_400).default(30),
  /** Most frames delivered and not yet acknowledged (bounds the frames in flight). */
  maxAckPending: z.number().int().positive().max(100_000).default(16),
  /**
   * Deliveries of one frame without its decision delivered; on the next delivery the frame is
   * dead-lettered (reason `max_deliver`) and terminated (the consumer's `max_deliver` is one more).
   */
  maxDeliver: z.number().int().positive().max(1_000).default(5),
  /**
   * Share the listed cameras among the workers by leases in a KV bucket (docs/scaling-out.md):
   * each camera is consumed by one worker at a time (its own durable `<durable>-<camera>`), so its
   * state never forks; a dead worker's cameras move after `ttlSeconds`, and a worker that joins
   * gets its fair share. Absent: every worker on the durable takes any frame.
   */
  leases: z
    .strictObject({
      /** The KV bucket of the leases (created when missing, with `ttlSeconds` as its TTL). */
      bucket: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, '1-64 characters of [A-Za-z0-9_-]')
        .default(CAMERA_LEASE_DEFAULTS.bucket),
      /** A lease not renewed for this long expires (renewed every third of it), s. */
      ttlSeconds: z
        .number()
        .min(1)
        .max(3_600)
        .default(CAMERA_LEASE_DEFAULTS.ttlMs / 1000),
      /** Replicas of the bucket when it is created: 3 in a 3-node cluster survives a node. */
      replicas: z.number().int().min(1).max(5).default(1),
      /** This worker's id in the bucket; default `<hostname>-<pid>`. */
      workerId: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, '1-64 characters of [A-Za-z0-9_-]')
        .optional(),
      /**
       * Each camera's pipeline state (online centre, rolling threshold window) carried from owner
       * to owner through an Object Store: written every `everyBlocks` blocks and when a camera is
       * released, loaded by its next owner (docs/scaling-out.md §3).
       */
      checkpoints: z
        .strictObject({
          /** Off: a new owner starts each camera from the bundle's centre and τ. */
          enabled: z.boolean().default(true),
          /**
           * A checkpoint every this many blocks of a camera (0: only when it is released). After
           * a kill -9 the next owner continues from the last one: up to this many blocks behind.
           */
          everyBlocks: z.number().int().min(0).max(1_000_000).default(50),
          /** The Object Store bucket (created when missing, with the leases' `replicas`). */
          bucket: z
            .string()
            .regex(/^[A-Za-z0-9_-]{1,64}$/, '1-64 characters of [A-Za-z0-9_-]')
            .default(CAMERA_STATE_DEFAULTS.bucket),
        })
        .prefault({}),
    })
    .optional(),
});

/** The defaults of {@link MqttSourceSettingsSchema}: the schema parsed from `{}`. */
export const MQTT_SOURCE_DEFAULTS = MqttSourceSettingsSchema.parse({});
/** The defaults of {@link NatsSourceSettingsSchema}: the schema parsed from `{}`. */
export const NATS_SOURCE_DEFAULTS = NatsSourceSettingsSchema.parse({});
/** The defaults of {@link JetStreamSourceSettingsSchema}: the schema parsed from `{}`. */
export const JETSTREAM_SOURCE_DEFAULTS = JetStreamSourceSettingsSchema.parse({});
