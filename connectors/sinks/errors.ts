/**
 * Named errors of the publish-side sinks (a bad option is the core `OptionError`). Each says which
 * camera, stream or broker is at fault; `code` is stable (used in logs and dead letters).
 */
import { CAMERA_ID_RULE } from '../../src/core/camera-id.js';
import { CubestreamError, describeValue } from '../../src/core/errors.js';

/** A camera id that cannot be used as an MQTT topic level and a NATS subject token. */
export class InvalidCameraIdError extends CubestreamError {
  /** @param cameraId - the rejected id */
  constructor(cameraId: unknown) {
    super(
      'camera_id',
      `cameraId ${describeValue(cameraId)} is not usable in topics/subjects: ${CAMERA_ID_RULE}`,
    );
  }
}

/** `connect()` gave up waiting for the first connection. */
export class SinkConnectTimeoutError extends CubestreamError {
  /**
   * @param sink - sink name
   * @param target - broker URL(s) or file path
   * @param timeoutMs - how long it waited
   */
  constructor(sink: string, target: string, timeoutMs: number, options?: { cause?: unknown }) {
    super('connect_timeout', `${sink} sink: no connection to ${target} within ${timeoutMs} ms`, options);
  }
}

/** The broker refused the credentials (MQTT CONNACK 4/5/134/135, NATS authorization violation). */
export class SinkAuthError extends CubestreamError {
  /**
   * @param sink - sink name
   * @param target - broker URL(s)
   * @param detail - the broker's reason
   */
  constructor(sink: string, target: string, detail: string, options?: { cause?: unknown }) {
    super('auth', `${sink} sink: ${target} refused the credentials: ${detail}`, options);
  }
}

/** The TLS handshake with the broker failed in a way retrying cannot mend (untrusted certificate, wrong host, not TLS). */
export class SinkTlsError extends CubestreamError {
  /**
   * @param sink - sink name
   * @param target - broker URL(s), credentials redacted
   * @param detail - the TLS error
   */
  constructor(sink: string, target: string, detail: string, options?: { cause?: unknown }) {
    super(
      'tls',
      `${sink} sink: TLS with ${target} failed: ${detail} (check tls.caFile and the broker's certificate)`,
      options,
    );
  }
}

/** `flush(timeoutMs)` expired with messages still queued or unacknowledged. */
export class SinkFlushTimeoutError extends CubestreamError {
  /**
   * @param sink - sink name
   * @param pending - messages not yet acknowledged
   * @param timeoutMs - the flush timeout
   */
  constructor(sink: string, pending: number, timeoutMs: number) {
    super('flush_timeout', `${sink} sink: ${pending} message(s) still unacknowledged after ${timeoutMs} ms`);
  }
}

/** A publish on a sink that was closed. */
export class SinkClosedError extends CubestreamError {
  /** @param sink - sink name */
  constructor(sink: string) {
    super('closed', `${sink} sink is closed`);
  }
}

/** The broker answered a publish with a permanent error (it will not be retried). */
export class PublishRejectedError extends CubestreamError {
  /**
   * @param sink - sink name
   * @param destination - topic or subject
   * @param detail - the broker's reason
   */
  constructor(sink: string, destination: string, detail: string, options?: { cause?: unknown }) {
    super('rejected', `${sink} sink: publish to ${destination} rejected: ${detail}`, options);
  }
}

/** The JetStream stream exists with a configuration that cannot hold the decisions, or cannot be created. */
export class StreamConfigError extends CubestreamError {
  /**
   * @param stream - stream name
   * @param detail - what is wrong (expected vs found)
   */
  constructor(stream: string, detail: string, options?: { cause?: unknown }) {
    super('stream_config', `JetStream stream ${JSON.stringify(stream)}: ${detail}`, options);
  }
}
