/**
 * Publishes decisions to MQTT (docs/wire-format.md §2): `<prefix>/<cameraId>/decisions`, QoS 1, not retained,
 * MQTT 5 message expiry; a retained `<prefix>/<cameraId>/status` with a last will `offline`;
 * dead letters on `<prefix>/<cameraId>/deadletter`.
 *
 * One status topic per camera, and a will can name only one topic: so the sink opens **one MQTT
 * connection per camera**, each carrying its camera's will. A crash (kill -9, power loss, network
 * cut) flips every camera of the instance to `offline`; a clean {@link MqttDecisionSink.close}
 * publishes `offline` itself. Cameras listed in `cameraIds` connect in `connect()`; a decision
 * for another camera opens its connection on first use.
 */

import { randomBytes } from 'node:crypto';
import { UNKNOWN_CAMERA } from '../../src/core/camera-id.js';
import { type Decision, encodeDecision } from '../../src/core/decision.js';
import { type EjectCommand, encodeEject } from '../../src/core/eject.js';
import { OptionError } from '../../src/core/options.js';
import { redactUrl } from '../../src/telemetry/redact.js';
import type { BackoffOptions } from '../shared/backoff.js';
import { readTlsFiles, type TlsFileOptions } from '../shared/tls-files.js';
import { withTimeout } from '../shared/with-timeout.js';
import { type DeadLetter, type DeadLetterTarget, encodeDeadLetter } from './dead-letter.js';
import { SinkClosedError, SinkConnectTimeoutError } from './errors.js';
import { MqttCameraChannel, type MqttChannelConfig, type MqttProtocolState } from './mqtt-channel.js';
import { MQTT_SINK_DEFAULTS } from './mqtt-sink-options.js';
import { OutgoingMessage } from './outgoing-message.js';
import { waitUntilIdle } from './retry.js';
import type { DecisionSink, OverflowPolicy, PublishOutcome, SinkHooks, StatusUpdate } from './sink.js';
import { assertNonNegative, assertPositiveInteger, sinkComponent } from './sink-options.js';
import { SinkReporter } from './sink-reporter.js';
import { assertCameraId, assertMqttPrefix, mqttTopic } from './topics.js';

/** TLS settings; files are read in `connect()`. */
export type MqttTlsOptions = TlsFileOptions;

/** Options of {@link MqttDecisionSink}; the defaults are {@link MQTT_SINK_DEFAULTS}'s. */
export interface MqttSinkOptions extends SinkHooks {
  /** Broker URL: `mqtt://host:1883`, `mqtts://host:8883`, `ws://…`. */
  url: string;
  /** Cameras whose connections (and retained status) are opened in `connect()`; at least one. */
  cameraIds: readonly string[];
  /** Model version reported in the status messages. */
  modelVersion: string;
  /** Topic prefix; default `cubestream`. */
  prefix?: string;
  /** Sink name (metric label); default `mqtt`. */
  name?: string;
  /** Client ids are `<clientIdPrefix>-<cameraId>`; default `cubestream-<8 random hex>`. */
  clientIdPrefix?: string;
  /** `auto` (default): MQTT 5, falling back to 3.1.1 when refused; or force 5 / 4 (= 3.1.1). */
  protocol?: 'auto' | 5 | 4;
  /** MQTT 5 message expiry of decisions in seconds (not sent on 3.1.1); 0 = none; default 60. */
  messageExpirySeconds?: number;
  /** Per-camera offline queue capacity; default 1000. */
  offlineQueueSize?: number;
  /** Which message a full queue drops; default `drop-oldest` (the newest decisions matter most). */
  overflow?: OverflowPolicy;
  /** Reconnect backoff; default 500 ms doubling up to 30 s. */
  reconnect?: BackoffOptions;
  /** How long `connect()` waits for every camera's first connection; 0 = do not wait; default 10 000. */
  connectTimeoutMs?: number;
  /** MQTT keep-alive in seconds; default 30. */
  keepaliveSeconds?: number;
  username?: string;
  password?: string;
  tls?: MqttTlsOptions;
}

/**
 * The MQTT decision sink.
 *
 * @example
 * ```ts
 * const sink = new MqttDecisionSink({
 *   url: 'mqtt://127.0.0.1:1883', cameraIds: ['cam1'], modelVersion: 'v3', metrics, logger,
 * });
 * await sink.connect();                        // retained status: online
 * await sink.publish(decision);                // 'acked' on PUBACK, 'queued' while offline
 * await sink.publishStatus('cam1', { threshold: 0.42 });
 * await sink.flush(5_000);
 * await sink.close();                          // retained status: offline
 * ```
 */
export class MqttDecisionSink implements DecisionSink, DeadLetterTarget {
  /** Metric label and log name. */
  readonly name: string;
  private readonly options: MqttSinkOptions;
  private readonly prefix: string;
  private readonly reporter: SinkReporter;
  private readonly protocol: MqttProtocolState;
  private readonly channels = new Map<string, MqttCameraChannel>();
  private readonly clientIdPrefix: string;
  private tls: MqttChannelConfig['tls'];
  private tlsLoaded = false;
  private closed = false;
  /** The latest model version a status update named (channels opened from now on start with it). */
  private modelVersion: string | undefined;

  /** @param options - see {@link MqttSinkOptions}; validated here */
  constructor(options: MqttSinkOptions) {
    this.name = options.name ?? 'mqtt';
    this.prefix = assertMqttPrefix(options.prefix ?? MQTT_SINK_DEFAULTS.topicPrefix);
    if (options.cameraIds.length === 0) {
      throw new OptionError(
        sinkComponent(this.name),
        'cameraIds',
        options.cameraIds,
        'at least one camera id',
      );
    }
    options.cameraIds.forEach(assertCameraId);
    assertPositiveInteger(this.name, 'offlineQueueSize', options.offlineQueueSize);
    assertNonNegative(this.name, 'messageExpirySeconds', options.messageExpirySeconds);
    assertNonNegative(this.name, 'connectTimeoutMs', options.connectTimeoutMs);
    if (options.protocol !== undefined && !['auto', 5, 4].includes(options.protocol)) {
      throw new OptionError(sinkComponent(this.name), 'protocol', options.protocol, "'auto', 5 or 4");
    }
    try {
      new URL(options.url);
    } catch {
      throw new OptionError(sinkComponent(this.name), 'url', options.url, 'a URL such as mqtt://host:1883');
    }
    this.options = options;
    const protocol = options.protocol ?? MQTT_SINK_DEFAULTS.protocol;
    this.protocol = { version: protocol === 4 ? 4 : 5, auto: protocol === 'auto' };
    this.clientIdPrefix = options.clientIdPrefix ?? `cubestream-${randomBytes(4).toString('hex')}`;
    this.reporter = new SinkReporter(this.name, options, { broker: redactUrl(options.url) });
    this.reporter.connected(false);
  }

  /** True when every opened camera connection is up. */
  get connected(): boolean {
    if (this.closed || this.channels.size === 0) return false;
    for (const channel of this.channels.values()) if (!channel.connected) return false;
    return true;
  }

  /** Messages queued offline or awaiting their PUBACK, over all cameras. */
  get pending(): number {
    let total = 0;
    for (const channel of this.channels.values()) total += channel.pending;
    return total;
  }

  /** Protocol in use: 5, or 4 (3.1.1) after a fallback or when forced. */
  get protocolVersion(): 5 | 4 {
    return this.protocol.version;
  }

  /**
   * Opens the connection of every configured camera and waits (up to `connectTimeoutMs`) for
   * all of them. On timeout it rejects with {@link SinkConnectTimeoutError} and keeps
   * reconnecting in the background; bad credentials reject with `SinkAuthError`.
   */
  async connect(): Promise<void> {
    if (this.closed) throw new SinkClosedError(this.name);
    this.loadTls();
    const channels = this.options.cameraIds.map((cameraId) => this.channel(cameraId));
    const timeoutMs = this.options.connectTimeoutMs ?? MQTT_SINK_DEFAULTS.connectTimeoutMs;
    if (timeoutMs === 0) return;
    await withTimeout(
      Promise.all(channels.map((channel) => channel.whenConnected())),
      timeoutMs,
      () => new SinkConnectTimeoutError(this.name, redactUrl(this.options.url), timeoutMs),
    );
  }

  /** Publishes a decision on `<prefix>/<cameraId>/decisions` (QoS 1, message expiry on v5). */
  publish(decision: Decision): Promise<PublishOutcome> {
    try {
      if (this.closed) throw new SinkClosedError(this.name);
      const topic = mqttTopic(this.prefix, decision.cameraId, 'decisions');
      const message = new OutgoingMessage(topic, encodeDecision(decision), decision);
      this.channel(decision.cameraId).send(message, true);
      return message.promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Publishes a dead letter on `<prefix>/<cameraId>/deadletter` (`_unknown` without a camera),
   * QoS 1, no expiry, through that camera's connection or else the first camera's.
   */
  publishDeadLetter(letter: DeadLetter): Promise<PublishOutcome> {
    try {
      if (this.closed) throw new SinkClosedError(this.name);
      const cameraId = letter.cameraId ?? UNKNOWN_CAMERA;
      const topic = mqttTopic(this.prefix, cameraId, 'deadletter');
      const message = new OutgoingMessage(topic, encodeDeadLetter(letter));
      const firstCamera = this.options.cameraIds[0] ?? UNKNOWN_CAMERA;
      const channel = this.channels.get(cameraId) ?? this.channel(firstCamera);
      channel.send(message, false);
      return message.promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Publishes an eject command on `<prefix>/<cameraId>/eject` (QoS 1, not retained, not queued
   * past its use: a command that waits for a reconnect is sent late, which the planner already
   * counts as late when its time has passed).
   */
  publishEject(eject: EjectCommand): Promise<PublishOutcome> {
    try {
      if (this.closed) throw new SinkClosedError(this.name);
      const message = new OutgoingMessage(
        mqttTopic(this.prefix, eject.cameraId, 'eject'),
        encodeEject(eject),
      );
      this.channel(eject.cameraId).send(message, false);
      return message.promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Republishes the camera's retained status with the current threshold, camera state and model version. */
  async publishStatus(cameraId: string, update: StatusUpdate): Promise<void> {
    if (this.closed) throw new SinkClosedError(this.name);
    if (update.modelVersion !== undefined) this.modelVersion = update.modelVersion;
    await this.channel(cameraId).updateStatus(update);
  }

  /** Waits until no message is queued or awaiting its PUBACK. */
  flush(timeoutMs: number): Promise<void> {
    return waitUntilIdle(this.name, () => this.pending, timeoutMs);
  }

  /** Publishes `offline` on every camera's status, disconnects, drops (and counts) what is still queued. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.channels.values()].map((channel) => channel.close()));
    this.reporter.connected(false);
  }

  private channel(cameraId: string): MqttCameraChannel {
    const existing = this.channels.get(cameraId);
    if (existing !== undefined) return existing;
    if (cameraId !== UNKNOWN_CAMERA) assertCameraId(cameraId);
    if (!this.tlsLoaded && this.options.tls !== undefined) {
      throw new OptionError(
        sinkComponent(this.name),
        'tls',
        'not loaded',
        'call connect() before publishing',
      );
    }
    const { options } = this;
    const channel = new MqttCameraChannel({
      url: options.url,
      cameraId,
      clientId: `${this.clientIdPrefix}-${cameraId}`,
      statusTopic: mqttTopic(this.prefix, cameraId, 'status'),
      modelVersion: this.modelVersion ?? options.modelVersion,
      protocol: this.protocol,
      messageExpirySeconds: options.messageExpirySeconds ?? MQTT_SINK_DEFAULTS.messageExpirySeconds,
      keepaliveSeconds: options.keepaliveSeconds ?? MQTT_SINK_DEFAULTS.keepaliveSeconds,
      connectTimeoutMs: 10_000,
      reconnect: options.reconnect ?? MQTT_SINK_DEFAULTS.reconnect,
      offlineQueueSize: options.offlineQueueSize ?? MQTT_SINK_DEFAULTS.offlineQueue.size,
      overflow: options.overflow ?? MQTT_SINK_DEFAULTS.offlineQueue.overflow,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      ...(this.tls === undefined ? {} : { tls: this.tls }),
      reporter: this.reporter,
      onConnectionChange: () => this.reporter.connected(this.connected),
    });
    this.channels.set(cameraId, channel);
    if (!options.cameraIds.includes(cameraId)) {
      this.reporter.log.info({ camera: cameraId }, 'opening mqtt connection for a camera not in cameraIds');
    }
    channel.start();
    return channel;
  }

  /** Reads the TLS files once, at the first `connect()`; throws `TlsFileError` for one that cannot be read. */
  private loadTls(): void {
    if (this.tlsLoaded) return;
    const tls = this.options.tls;
    if (tls !== undefined) this.tls = readTlsFiles(tls, `${this.name} sink`);
    this.tlsLoaded = true;
  }
}
