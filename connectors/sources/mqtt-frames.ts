import mqtt, { type IClientOptions } from 'mqtt';
import { redactUrl } from '../../src/telemetry/redact.js';
import { backoffDelay } from '../shared/backoff.js';
import { mqttConnectFailure } from '../shared/mqtt-reason-codes.js';
import { readTlsFiles, type TlsFileOptions } from '../shared/tls-files.js';
import { type BrokerFrameSourceOptions, brokerFrameSource } from './broker-frame-source.js';
import { MQTT_SOURCE_DEFAULTS } from './broker-source-options.js';
import type { CameraSource } from './source-state.js';

/** Options of {@link mqttFrames}. */
export interface MqttFramesOptions extends BrokerFrameSourceOptions {
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883` or `mqtts://…`. */
  url: string;
  /** Topic filter (default `cubestream/+/frames`); the `+` level is taken as the camera id. */
  topic?: string;
  /** Subscription QoS (default 1). */
  qos?: 0 | 1;
  /** Extra mqtt.js client options (credentials, client id, protocol version). */
  client?: IClientOptions;
  /** TLS files, read when the source is built (see {@link readTlsFiles}); they override `client`'s. */
  tls?: TlsFileOptions;
}

/** The camera id in `<prefix>/<cameraId>/frames`, or undefined. */
export function cameraIdFromTopic(topic: string): string | undefined {
  const parts = topic.split('/');
  return parts.length >= 3 && parts[parts.length - 1] === 'frames' ? parts[parts.length - 2] : undefined;
}

/**
 * Frames published over MQTT as safetensors messages (docs/wire-format.md §1), e.g. by a camera
 * gateway or `mosquitto_pub -t cubestream/cam1/frames -f frame.safetensors`. A broker that cannot
 * be reached (at start or later) puts the source in state `disconnected`, reports each failed
 * attempt to `onConnectionIssue` and retries with backoff; an untrusted TLS certificate or
 * refused credentials end the stream with the reason. Bad messages go to `onReject` and the
 * stream goes on.
 *
 * @throws `TlsFileError` when a file of `tls` cannot be read
 *
 * @example
 * ```ts
 * import { deadLetterFromError, DeadLetterSink, JsonlDeadLetterFile } from 'cubestream/connectors';
 * import { deepSvddPipeline } from 'cubestream/operators';
 * const deadLetters = new DeadLetterSink([new JsonlDeadLetterFile({ path: 'dead.jsonl' })]);
 * const camera = mqttFrames({
 *   url: 'mqtt://127.0.0.1:1883',
 *   onReject: (r) => deadLetters.publish(deadLetterFromError(r.error, { cameraId: r.cameraId })),
 * });
 * camera.frames.pipe(deepSvddPipeline(bundle)).subscribe((f) => sink.publish(f.decision));
 * ```
 */
export function mqttFrames(options: MqttFramesOptions): CameraSource {
  const topic = options.topic ?? MQTT_SOURCE_DEFAULTS.topic;
  const tls = options.tls === undefined ? {} : readTlsFiles(options.tls, 'mqtt source');
  return brokerFrameSource(options, async (feed) => {
    // Reconnects are ours, with backoff, so that every failed attempt is reported with its reason.
    const client = mqtt.connect(options.url, {
      connectTimeout: 10_000,
      ...options.client,
      ...tls,
      reconnectPeriod: 0,
    });
    let closing = false;
    let attempt = 0;
    let lastError: Error | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    client.on('error', (error) => {
      lastError = error;
      // An untrusted certificate or refused credentials fail the same way on every retry.
      const fatal = mqttConnectFailure(error);
      if (fatal === undefined) return;
      closing = true;
      client.end(true);
      const reason = fatal.kind === 'auth' ? 'refused the credentials' : 'TLS failed';
      feed.failed(
        new Error(`mqtt source: ${redactUrl(options.url)}: ${reason}: ${fatal.detail}`, { cause: error }),
      );
    });
    client.on('close', () => {
      if (closing) return;
      const retryInMs = backoffDelay(attempt, options.reconnect);
      attempt += 1;
      const reason = lastError?.message ?? 'connection closed';
      lastError = undefined;
      feed.disconnected({
        error: new Error(`mqtt source: ${redactUrl(options.url)}: ${reason}`),
        attempt,
        retryInMs,
      });
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => {
        if (!closing) client.reconnect();
      }, retryInMs);
    });
    client.on('message', (messageTopic, payload) =>
      feed.message(payload, messageTopic, cameraIdFromTopic(messageTopic)),
    );
    client.on('connect', () => {
      attempt = 0;
      client.subscribe(topic, { qos: options.qos ?? MQTT_SOURCE_DEFAULTS.qos }, (error) => {
        if (error) feed.failed(error);
        else feed.connected();
      });
    });
    return {
      close: async () => {
        closing = true;
        clearTimeout(retryTimer);
        await client.endAsync();
      },
    };
  });
}
