/**
 * Topic and subject names of docs/wire-format.md §5, built in one place and validated: camera ids must be
 * usable both as an MQTT topic level and as a NATS subject token.
 *
 * @example
 * ```ts
 * mqttTopic('cubestream', 'cam1', 'decisions'); // 'cubestream/cam1/decisions'
 * natsSubject('cubestream', 'decisions', 'cam1'); // 'cubestream.decisions.cam1'
 * decisionMsgId(decision); // 'cam1:1764921600000:42:0'
 * ```
 */
import { isCameraId, UNKNOWN_CAMERA } from '../../src/core/camera-id.js';
import type { Decision } from '../../src/core/decision.js';
import { OptionError } from '../../src/core/options.js';
import { InvalidCameraIdError } from './errors.js';
import { sinkComponent } from './sink-options.js';

/** Kinds of per-camera MQTT topics. */
export type MqttTopicKind = 'decisions' | 'status' | 'deadletter' | 'eject';

/** Kinds of NATS subjects. */
export type NatsSubjectKind = 'decisions' | 'deadletter' | 'eject';

/** Throws {@link InvalidCameraIdError} unless `cameraId` is a valid topic level / subject token. */
export function assertCameraId(cameraId: string): string {
  if (!isCameraId(cameraId)) throw new InvalidCameraIdError(cameraId);
  return cameraId;
}

/** Checks an MQTT topic prefix: non-empty levels, no wildcards, no leading/trailing `/`. */
export function assertMqttPrefix(prefix: string): string {
  const ok =
    prefix.length > 0 && prefix.split('/').every((level) => level.length > 0 && !/[+#\0]/.test(level));
  if (!ok)
    throw new OptionError(sinkComponent('mqtt'), 'prefix', prefix, 'non-empty topic levels without + or #');
  return prefix;
}

/** Checks a NATS subject prefix: non-empty dot-separated tokens, no wildcards or whitespace. */
export function assertNatsPrefix(prefix: string): string {
  const ok =
    prefix.length > 0 && prefix.split('.').every((token) => token.length > 0 && !/[*>\s]/.test(token));
  if (!ok)
    throw new OptionError(
      sinkComponent('nats'),
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

/**
 * The identity of a decision, `<cameraId>:<capturedAt>:<frameId>:<rowOffset>`: the JetStream
 * de-duplication id (`Nats-Msg-Id`) and the key a subscriber de-duplicates MQTT decisions by.
 * It is the same each time the same decision is sent again (a retry, a redelivery, the durable
 * outbox after a restart), and differs across restarts of the service or of a camera gateway,
 * whose frame ids start again at 0 but whose capture times move on: with the frame id alone,
 * JetStream would drop the new decisions as duplicates within its window.
 */
export function decisionMsgId(
  decision: Pick<Decision, 'cameraId' | 'capturedAt' | 'frameId' | 'rowOffset'>,
): string {
  return `${decision.cameraId}:${decision.capturedAt}:${decision.frameId}:${decision.rowOffset}`;
}
