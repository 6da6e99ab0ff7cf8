/**
 * One MQTT connection serving one camera: it carries that camera's last will (the retained
 * `offline` status), publishes the retained `online` status on every (re)connect, delivers
 * QoS 1 messages, keeps a bounded offline queue while disconnected, reconnects with capped
 * exponential backoff, and falls back from MQTT 5 to 3.1.1 when the broker refuses v5.
 *
 * Delivery: while connected, a message goes straight to mqtt.js and its promise resolves on the
 * PUBACK. While disconnected it waits in the offline queue (promise resolves `queued`) and is
 * sent on reconnect. Messages in flight when the connection drops stay in mqtt.js's outgoing
 * store (kept across our reconnects) and are re-sent on reconnect: at-least-once.
 */
import mqtt, { ErrorWithReasonCode, type IClientOptions, type MqttClient } from 'mqtt';
import { asError } from '../../src/core/errors.js';
import { redactUrl } from '../../src/telemetry/redact.js';
import { type BackoffOptions, backoffDelay } from '../shared/backoff.js';
import { mqttConnectFailure, UNSUPPORTED_PROTOCOL } from '../shared/mqtt-reason-codes.js';
import { withTimeout } from '../shared/with-timeout.js';
import { PublishRejectedError, SinkAuthError, SinkTlsError } from './errors.js';
import { OfflineQueue } from './offline-queue.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { OverflowPolicy, StatusUpdate } from './sink.js';
import type { SinkReporter } from './sink-reporter.js';
import { encodeStatus } from './status.js';

/** MQTT protocol version on the wire: 5, or 4 (= 3.1.1). */
export type MqttProtocolVersion = 5 | 4;

/** Protocol state shared by the channels of one sink, so one fallback serves all cameras. */
export interface MqttProtocolState {
  version: MqttProtocolVersion;
  /** When true, a v5 refusal switches `version` to 4. */
  readonly auto: boolean;
}

/** Connection settings of a channel (resolved by the sink from its options). */
export interface MqttChannelConfig {
  readonly url: string;
  readonly cameraId: string;
  readonly clientId: string;
  readonly statusTopic: string;
  readonly modelVersion: string;
  readonly protocol: MqttProtocolState;
  /** MQTT 5 message expiry of decisions, seconds; 0 = none. */
  readonly messageExpirySeconds: number;
  readonly keepaliveSeconds: number;
  /** Per-attempt CONNACK timeout, ms. */
  readonly connectTimeoutMs: number;
  readonly reconnect: BackoffOptions;
  readonly offlineQueueSize: number;
  readonly overflow: OverflowPolicy;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean };
  readonly reporter: SinkReporter;
  /** Called after the channel connected or lost its connection (the sink updates its gauge). */
  readonly onConnectionChange: () => void;
}

interface Queued {
  readonly message: OutgoingMessage;
  /** Attach the message expiry property (decisions yes, dead letters no). */
  readonly expire: boolean;
}

/** The MQTT connection of one camera. */
export class MqttCameraChannel {
  private client: MqttClient | undefined;
  // Kept across our reconnects so that unacknowledged QoS 1 messages are re-sent.
  private outgoingStore = new mqtt.Store();
  private incomingStore = new mqtt.Store();
  private readonly queue: OfflineQueue<Queued>;
  private inFlight = 0;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private closeStarted = false;
  private everConnected = false;
  private threshold: number | undefined;
  /** The model version of the retained status: the configured one until `updateStatus` names another. */
  private modelVersion: string | undefined;
  /** `offline` while the camera's source is lost (see `updateStatus`). */
  private cameraState: 'online' | 'offline' = 'online';
  private readonly firstConnection: Promise<void>;
  private resolveFirst: () => void = () => {};
  private rejectFirst: (error: Error) => void = () => {};

  /** @param config - resolved connection settings */
  constructor(private readonly config: MqttChannelConfig) {
    this.queue = new OfflineQueue(config.offlineQueueSize, config.overflow);
    this.firstConnection = new Promise((resolve, reject) => {
      this.resolveFirst = resolve;
      this.rejectFirst = reject;
    });
    // Rejections are reported through the reporter too; avoid an unhandled rejection when nobody waits.
    this.firstConnection.catch(() => undefined);
  }

  /** True while the MQTT session is up. */
  get connected(): boolean {
    return this.client?.connected === true && !this.closing;
  }

  /** Messages queued offline or awaiting their PUBACK. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /** Protocol version this channel uses now. */
  get protocolVersion(): MqttProtocolVersion {
    return this.config.protocol.version;
  }

  /** Opens the connection (returns at once; see {@link whenConnected}). */
  start(): void {
    if (this.client === undefined && !this.closing) this.client = this.createClient();
  }

  /** Resolves on the first CONNACK; rejects with {@link SinkAuthError} if the credentials are refused. */
  whenConnected(): Promise<void> {
    return this.firstConnection;
  }

  /** Publishes (QoS 1, not retained) or queues a message; the message's promise tells the outcome. */
  send(message: OutgoingMessage, expire: boolean): void {
    const item: Queued = { message, expire };
    const client = this.client;
    if (client?.connected === true && this.queue.length === 0 && !this.closing) {
      this.transmit(client, item);
      return;
    }
    const dropped = this.queue.push(item);
    if (dropped !== item) message.settle('queued');
    if (dropped !== undefined) this.config.reporter.dropped(dropped.message, 'overflow');
  }

  /** Remembers the threshold, camera state and model version given and republishes the retained status with them. */
  async updateStatus(update: StatusUpdate): Promise<void> {
    if (update.threshold !== undefined) this.threshold = update.threshold;
    if (update.modelVersion !== undefined) this.modelVersion = update.modelVersion;
    if (update.state !== undefined) this.cameraState = update.state;
    const client = this.client;
    if (client?.connected === true && !this.closing) await this.publishStatus(client, this.cameraState);
  }

  /**
   * Publishes the retained `offline` status (when connected), disconnects, and drops what is
   * still queued (counted). In-flight messages get up to `graceMs` for their PUBACK.
   */
  async close(graceMs = 2_000): Promise<void> {
    if (this.closeStarted) return;
    this.closeStarted = true;
    const client = this.client;
    if (client?.connected === true) {
      await withTimeout(this.publishStatus(client, 'offline'), graceMs, () => timedOut(graceMs)).catch(
        (error: unknown) =>
          this.config.reporter.error(asError(error), { camera: this.config.cameraId, during: 'close' }),
      );
    }
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    for (const item of this.queue.drain()) this.config.reporter.dropped(item.message, 'closed');
    if (client !== undefined && !client.connected) {
      await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    } else if (client !== undefined) {
      const ended = new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
      const inTime = await withTimeout(ended, graceMs, () => timedOut(graceMs)).then(
        () => true,
        () => false,
      );
      if (!inTime) await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    }
    this.config.onConnectionChange();
    this.rejectFirst(new Error(`mqtt channel of camera ${this.config.cameraId} closed before connecting`));
  }

  private createClient(): MqttClient {
    const { config } = this;
    const options: IClientOptions = {
      clientId: config.clientId,
      protocolVersion: config.protocol.version,
      clean: true,
      keepalive: config.keepaliveSeconds,
      connectTimeout: config.connectTimeoutMs,
      reconnectPeriod: 0, // reconnects are ours (backoff); the stores are kept across them
      outgoingStore: this.outgoingStore,
      incomingStore: this.incomingStore,
      queueQoSZero: false,
      will: this.will(),
      ...(config.username === undefined ? {} : { username: config.username }),
      ...(config.password === undefined ? {} : { password: config.password }),
      ...(config.tls ?? {}),
    };
    const client = mqtt.connect(config.url, options);
    client.on('connect', () => this.onConnect(client));
    client.on('close', () => this.onClose(client));
    client.on('error', (error) => this.onError(client, error));
    return client;
  }

  private will(): NonNullable<IClientOptions['will']> {
    const payload = encodeStatus({
      state: 'offline',
      modelVersion: this.modelVersion ?? this.config.modelVersion,
      ...(this.threshold === undefined ? {} : { threshold: this.threshold }),
      at: Date.now(),
    });
    return { topic: this.config.statusTopic, payload: Buffer.from(payload), qos: 1, retain: true };
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client || this.closing) return;
    const { reporter, cameraId } = this.config;
    if (this.everConnected) {
      reporter.log.info({ camera: cameraId, attempts: this.attempt }, 'mqtt reconnected');
    } else {
      reporter.log.info({ camera: cameraId, protocolVersion: this.protocolVersion }, 'mqtt connected');
    }
    this.everConnected = true;
    this.attempt = 0;
    this.config.onConnectionChange();
    this.publishStatus(client, this.cameraState).catch((error: unknown) =>
      reporter.error(asError(error), { camera: cameraId, during: 'status' }),
    );
    for (const item of this.queue.drain()) this.transmit(client, item);
    this.resolveFirst();
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client || this.closing) return;
    const { reporter, cameraId } = this.config;
    this.config.onConnectionChange();
    const delay = backoffDelay(this.attempt, this.config.reconnect);
    if (this.attempt === 0) {
      const what = this.everConnected ? 'mqtt connection lost' : 'mqtt broker unreachable';
      reporter.log.warn({ camera: cameraId, retryInMs: delay }, what);
    } else
      reporter.log.debug(
        { camera: cameraId, attempt: this.attempt, retryInMs: delay },
        'mqtt reconnect failed',
      );
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (client !== this.client || this.closing) return;
      client.options.will = this.will(); // fresh `at` in the last will
      client.reconnect({ incomingStore: this.incomingStore, outgoingStore: this.outgoingStore });
    }, delay);
  }

  private onError(client: MqttClient, error: Error): void {
    if (client !== this.client || this.closing) return;
    const { reporter, cameraId, url } = this.config;
    const code = error instanceof ErrorWithReasonCode ? error.code : undefined;
    if (code !== undefined && UNSUPPORTED_PROTOCOL.has(code) && this.config.protocol.version === 5) {
      if (this.config.protocol.auto) {
        this.config.protocol.version = 4;
        reporter.log.warn({ camera: cameraId, code }, 'broker refused MQTT 5, falling back to 3.1.1');
      }
      if (this.config.protocol.version === 4) {
        // end() closes the old client's stores; in-flight messages come back through their
        // callbacks ('Connection closed') and are re-queued.
        this.outgoingStore = new mqtt.Store();
        this.incomingStore = new mqtt.Store();
        this.client = this.createClient();
        client.end(true);
        return;
      }
    }
    const fatal = mqttConnectFailure(error);
    if (fatal !== undefined) {
      const Failure = fatal.kind === 'auth' ? SinkAuthError : SinkTlsError;
      const failure = new Failure('mqtt', redactUrl(url), fatal.detail, { cause: error });
      reporter.error(failure, { camera: cameraId });
      this.rejectFirst(failure);
      return;
    }
    if (this.attempt <= 1) reporter.log.warn({ err: error, camera: cameraId }, 'mqtt client error');
    else reporter.log.debug({ err: error, camera: cameraId }, 'mqtt client error');
  }

  private transmit(client: MqttClient, item: Queued): void {
    const { message } = item;
    const expiry = this.config.messageExpirySeconds;
    const v5 = this.config.protocol.version === 5;
    this.inFlight += 1;
    client.publish(
      message.destination,
      message.payload,
      {
        qos: 1,
        retain: false,
        ...(item.expire && v5 && expiry > 0 ? { properties: { messageExpiryInterval: expiry } } : {}),
      },
      (error) => {
        this.inFlight -= 1;
        if (error === undefined || error === null) {
          this.config.reporter.delivered(message);
          return;
        }
        const { reporter } = this.config;
        if (error instanceof ErrorWithReasonCode) {
          const rejected = new PublishRejectedError(reporter.sink, message.destination, error.message, {
            cause: error,
          });
          message.fail(rejected);
          reporter.dropped(message, 'rejected', rejected);
        } else if (this.closing) {
          reporter.dropped(message, 'closed', error);
        } else {
          // Connection torn down before the PUBACK: deliver again after the reconnect.
          reporter.attemptFailed(error, message.destination);
          const dropped = this.queue.requeue([item]);
          message.settle('queued');
          for (const d of dropped) reporter.dropped(d.message, 'overflow');
        }
      },
    );
  }

  private publishStatus(client: MqttClient, state: 'online' | 'offline'): Promise<void> {
    const payload = encodeStatus({
      state,
      modelVersion: this.modelVersion ?? this.config.modelVersion,
      ...(this.threshold === undefined ? {} : { threshold: this.threshold }),
      at: Date.now(),
    });
    return new Promise((resolve, reject) => {
      client.publish(this.config.statusTopic, payload, { qos: 1, retain: true }, (error) =>
        error ? reject(error) : resolve(),
      );
    });
  }
}

function timedOut(ms: number): Error {
  return new Error(`timed out after ${ms} ms`);
}
