/**
 * The one grammar of camera ids. A camera id becomes an MQTT topic level, a NATS subject token,
 * a metric label and a file name, so every edge (config, frame validation, broker sources,
 * sinks) checks it here: 1-128 ASCII letters, digits, `_` and `-`, starting with a letter or a
 * digit. Ids starting with `_` are reserved ({@link UNKNOWN_CAMERA}).
 */

/** The camera-id grammar: `^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`. */
export const CAMERA_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** What {@link CAMERA_ID_PATTERN} means, for error messages. */
export const CAMERA_ID_RULE = 'must be 1-128 of [A-Za-z0-9_-], starting with a letter or digit';

/**
 * The reserved id of things whose camera is unknown or not admitted: the `camera` label of
 * messages rejected before a camera could be trusted, and the topic level of their dead letters.
 */
export const UNKNOWN_CAMERA = '_unknown';

/**
 * Whether `value` is a valid camera id.
 *
 * @example
 * ```ts
 * isCameraId('line-3_cam0'); // true
 * isCameraId('cam$1');       // false
 * ```
 */
export function isCameraId(value: unknown): value is string {
  return typeof value === 'string' && CAMERA_ID_PATTERN.test(value);
}
