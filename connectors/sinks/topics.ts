/**
 * Topic and subject names of DESIGN §4, built in one place and validated: camera ids must be
 * usable both as an MQTT topic level and as a NATS subject token.
 *
 * @example
 * ```ts
 * mqttTopic('cubestream', 'cam1', 'decisions'); // 'cubestream/cam1/decisions'
 * natsSubject('cubestream', 'decisions', 'cam1'); // 'cubestream.decisions.cam1'
 * decisionMsgId(decision); // 'cam1:42:0'
 * ```
 */
import type { Decision } from '../../src/decision.js';
import { InvalidCameraIdError, InvalidSinkOptionError } from './errors.js';

/** Letters, digits, `_` and `-`, starting with a letter or digit (ids starting with `_` are reserved). */
const CAMERA_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Camera id used for dead letters of frames whose camera is unknown. */
export const UNKNOWN_CAMERA = '_unknown';

/** Kinds of per-camera MQTT topics. */
export type MqttTopicKind = 'decisions' | 'status' | 'deadletter';

/** Kinds of NATS subjects. */
export type NatsSubjectKind = 'decisions' | 'deadletter';

/** Throws {@link InvalidCameraIdError} unless `cameraId` is a valid topic level / subject token. */
export function assertCameraId(cameraId: string): string {
  if (!CAMERA_ID.test(cameraId)) throw new InvalidCameraIdError(cameraId);
  return cameraId;
}

/** Checks an MQTT topic prefix: non-empty levels, no wildcards, no leading/trailing `/`. */
export function assertMqttPrefix(prefix: string): string {
  const ok =
    prefix.length > 0 && prefix.split('/').every((level) => level.length > 0 && !/[+#\0]/.test(level));
  if (!ok)
    throw new InvalidSinkOptionError('mqtt', 'prefix', prefix, 'non-empty topic levels without + or #');
  return prefix;
}

/** Checks a NATS subject prefix: non-empty dot-separated tokens, no wildcards or whitespace. */
export function assertNatsPrefix(prefix: string): string {
  const ok =
    prefix.length > 0 && prefix.split('.').every((token) => token.length > 0 && !/[*>\s]/.test(token));
  if (!ok)
    throw new InvalidSinkOptionError(
      'nats',
      'subjectPrefix',
      prefix,
      'dot-separated tokens without * > or spaces',
    );
  return prefix;
}

/** `<prefix>/<cameraId>/<kind>`, e.g. `cubestream/cam1/decisions`. */
export function mqttTopic(prefix: string, cameraId: string, kind: MqttTopicKind): string {
  if (cameraId !== UNKNOWN_CAMERA) assertCameraId(cameraId);
  return `${prefix}/${cameraId}/${kind}`;
}

/** `<prefix>.<kind>.<cameraId>`, e.g. `cubestream.decisions.cam1`. */
export function natsSubject(prefix: string, kind: NatsSubjectKind, cameraId: string): string {
  if (cameraId !== UNKNOWN_CAMERA) assertCameraId(cameraId);
  return `${prefix}.${kind}.${cameraId}`;
}

/** JetStream de-duplication id of a decision: `<cameraId>:<frameId>:<rowOffset>`. */
export function decisionMsgId(decision: Pick<Decision, 'cameraId' | 'frameId' | 'rowOffset'>): string {
  return `${decision.cameraId}:${decision.frameId}:${decision.rowOffset}`;
}
