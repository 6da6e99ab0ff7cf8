/**
 * The Sparkplug B 3.0 session of an edge node over one mqtt.js client (SP5 l.154-254):
 *
 * 1. CONNECT, clean session (MQTT 3.1.1), with the NDEATH will (QoS 1, not retained, `bdSeq`);
 * 2. SUBSCRIBE `NCMD/<edge>` and `DCMD/<edge>/+` (and the primary host's STATE) at QoS 1;
 * 3. with a primary host: wait for its retained STATE `online: true`;
 * 4. NBIRTH (seq 0), a DBIRTH per device, then DATA, `seq` +1 mod 256 on each message.
 *
 * Every new CONNECT (each reconnect attempt) takes the next `bdSeq`: mqtt.js emits `reconnect`
 * before it builds the CONNECT from `options.will`, so the will is rebuilt there. `resubscribe`
 * is off (mqtt.js would otherwise let the births overtake the SUBSCRIBE). A host's NCMD
 * `Node Control/Rebirth = true` births again (same bdSeq, seq from 0); its STATE
 * `online: false` makes the node publish NDEATH and stop DATA until the host is back.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { asError } from '../../../src/core/errors.js';
import { redactUrl } from '../../../src/telemetry/redact.js';
import { backoffDelay } from '../../shared/backoff.js';
import { mqttConnectFailure } from '../../shared/mqtt-reason-codes.js';
import type { TlsMaterial } from '../../shared/tls-files.js';
import { withTimeout } from '../../shared/with-timeout.js';
import { SinkAuthError, SinkTlsError } from '../errors.js';
import type { PublishOutcome } from '../sink.js';
import type { SinkReporter } from '../sink-reporter.js';
import { BdSeq } from './bd-seq.js';
import type { DeviceTable, SparkplugDevice } from './device-table.js';
import { HostStateTracker, parseHostState } from './host-state.js';
import type { DeviceMetricName } from './metrics.js';
import { NODE_METRICS } from './metrics.js';
import {
  dbirthPayload,
  ddataPayload,
  decodePayload,
  encodePayload,
  nbirthPayload,
  ndeathPayload,
  type SparkplugPayload,
} from './payloads.js';
import type { SparkplugSinkConfig } from './sparkplug-sink-options.js';
import { deviceTopic, type EdgeNodeIds, hostStateTopic, nodeTopic } from './topics.js';

/** How long a clean stop waits for the NDEATH's PUBACK and the DISCONNECT. */
const STOP_GRACE_MS = 2_000;

/** The edge node's MQTT session. */
export class EdgeNodeSession {
  private client: MqttClient | undefined;
  private readonly bdSeq: BdSeq;
  private readonly host = new HostStateTracker();
  private readonly ids: EdgeNodeIds;
  private seq = 0;
  private isBorn = false;
  private subscribed = false;
  private stopping = false;
  private attempt = 0;
  private everConnected = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private births = 0;
  private readonly firstBirth: Promise<void>;
  private resolveFirst: () => void = () => {};
  private rejectFirst: (error: Error) => void = () => {};

  /**
   * @param config - validated settings
   * @param devices - the devices born after each NBIRTH
   * @param reporter - logs, errors, `broker_connected`
   * @param tls - TLS material, read by the sink
   * @param onBorn - called after each NBIRTH + DBIRTHs (the sink reports what it dropped meanwhile)
   */
  constructor(
    private readonly config: SparkplugSinkConfig,
    private readonly devices: DeviceTable,
    private readonly reporter: SinkReporter,
    private readonly tls: TlsMaterial | undefined,
    private readonly onBorn: () => void,
  ) {
    this.ids = { groupId: config.groupId, edgeNodeId: config.edgeNodeId };
    this.bdSeq = new BdSeq(config.bdSeqFile, (error) => reporter.error(error, { during: 'bdSeq' }));
    this.firstBirth = new Promise((resolve, reject) => {
      this.resolveFirst = resolve;
      this.rejectFirst = reject;
    });
    this.firstBirth.catch(() => undefined);
  }

  /** True while born: connected, subscribed, host online (when configured), NBIRTH sent. */
  get born(): boolean {
    return this.isBorn && this.client?.connected === true && !this.stopping;
  }

  /** bdSeq of the current CONNECT (carried by its will and NBIRTHs). */
  get currentBdSeq(): number {
    return this.bdSeq.current;
  }

  /** NBIRTHs sent so far (first birth, rebirths, births after reconnects). */
  get birthCount(): number {
    return this.births;
  }

  /** Messages handed to mqtt.js and not yet written (QoS 0) or acknowledged (NDEATH, QoS 1). */
  get pending(): number {
    return this.inFlight;
  }

  /** The device topic of a message type, e.g. DDATA of `cam0`. */
  deviceTopic(type: 'DBIRTH' | 'DDATA', deviceId: string): string {
    return deviceTopic(this.ids, type, deviceId);
  }

  /** Connects (returns at once; see {@link whenBorn}). */
  start(): void {
    if (this.client !== undefined || this.stopping) return;
    this.bdSeq.first();
    this.client = this.createClient();
  }

  /** Resolves at the first NBIRTH; rejects on refused credentials or TLS, or when stopped first. */
  whenBorn(): Promise<void> {
    return this.firstBirth;
  }

  /**
   * Publishes a DDATA of some of a device's metrics (current values), after its DBIRTH when the
   * device is new in this session. Resolves `acked` once written to the socket (DDATA is QoS 0,
   * SP5 l.227); `dropped` when not born or the connection failed meanwhile.
   */
  publishDeviceData(device: SparkplugDevice, names: readonly DeviceMetricName[]): Promise<PublishOutcome> {
    const client = this.client;
    if (!this.born || client === undefined) return Promise.resolve('dropped');
    if (!device.born) this.birthDevice(client, device);
    const topic = this.deviceTopic('DDATA', device.id);
    return this.send(client, topic, ddataPayload(device, names, this.nextSeq(), Date.now()), 0);
  }

  /** Publishes the DBIRTH of a device new in this session (no-op when not born or already born). */
  birthDeviceIfNew(device: SparkplugDevice): void {
    const client = this.client;
    if (this.born && client !== undefined && !device.born) this.birthDevice(client, device);
  }

  /** Publishes NDEATH (when connected), disconnects, stops reconnecting. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.isBorn = false;
    if (client?.connected === true) {
      await withTimeout(this.publishDeath(client), STOP_GRACE_MS, () => timedOut(STOP_GRACE_MS)).catch(
        (error: unknown) => this.reporter.error(asError(error), { during: 'NDEATH on close' }),
      );
      const ended = new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
      const inTime = await withTimeout(ended, STOP_GRACE_MS, () => timedOut(STOP_GRACE_MS)).then(
        () => true,
        () => false,
      );
      if (!inTime) await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    } else if (client !== undefined) {
      await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    }
    this.reporter.connected(false);
    this.rejectFirst(new Error('sparkplug session stopped before its first NBIRTH'));
  }

  private createClient(): MqttClient {
    const { config } = this;
    const options: IClientOptions = {
      clientId: config.clientId ?? `spb-${config.groupId}-${config.edgeNodeId}`,
      protocolVersion: 4,
      clean: true,
      keepalive: config.keepaliveSeconds,
      connectTimeout: 10_000,
      reconnectPeriod: 0, // reconnects are ours (backoff); each one takes the next bdSeq
      resubscribe: false,
      // Never send DATA queued while offline: it would go out before the NBIRTH of the next session.
      queueQoSZero: false,
      will: this.will(),
      ...(config.username === undefined ? {} : { username: config.username }),
      ...(config.password === undefined ? {} : { password: config.password }),
      ...(this.tls ?? {}),
    };
    const client = mqtt.connect(config.url, options);
    // Emitted by client.reconnect() before it builds the CONNECT packet from options.will.
    client.on('reconnect', () => {
      this.bdSeq.next();
      client.options.will = this.will();
    });
    client.on('connect', () => this.onConnect(client));
    client.on('close', () => this.onClose(client));
    client.on('error', (error) => this.onError(error));
    client.on('message', (topic, payload) => this.onMessage(client, topic, payload));
    return client;
  }

  private will(): NonNullable<IClientOptions['will']> {
    const payload = encodePayload(ndeathPayload(this.bdSeq.current, Date.now()));
    return { topic: nodeTopic(this.ids, 'NDEATH'), payload, qos: 1, retain: false };
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client || this.stopping) return;
    const log = this.reporter.log;
    log.info({ bdSeq: this.bdSeq.current, reconnect: this.everConnected }, 'sparkplug edge node connected');
    this.everConnected = true;
    this.attempt = 0;
    this.isBorn = false;
    this.subscribed = false;
    this.host.reset();
    const hostId = this.config.primaryHostId;
    const topics = [nodeTopic(this.ids, 'NCMD'), deviceTopic(this.ids, 'DCMD', '+')];
    if (hostId !== undefined) topics.push(hostStateTopic(hostId));
    client.subscribe(topics, { qos: 1 }, (error, granted) => {
      if (client !== this.client || this.stopping) return;
      const refused = granted?.find((g) => g.qos === 128);
      if (error !== null || refused !== undefined) {
        const why = error ?? new Error(`broker refused the subscription to ${refused?.topic}`);
        this.reporter.error(asError(why), { during: 'subscribe' });
        client.end(true); // 'close' reconnects with backoff
        return;
      }
      this.subscribed = true;
      if (hostId === undefined || this.host.online) this.birth(client);
      else log.info({ primaryHostId: hostId }, 'waiting for the primary host STATE online before NBIRTH');
    });
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client || this.stopping) return;
    const wasBorn = this.isBorn;
    this.isBorn = false;
    this.subscribed = false;
    this.reporter.connected(false);
    const delay = backoffDelay(this.attempt, this.config.reconnect);
    const log = this.reporter.log;
    if (this.attempt === 0) log.warn({ retryInMs: delay, wasBorn }, 'sparkplug connection lost');
    else log.debug({ attempt: this.attempt, retryInMs: delay }, 'sparkplug reconnect failed');
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (client === this.client && !this.stopping) client.reconnect();
    }, delay);
  }

  private onError(error: Error): void {
    if (this.stopping) return;
    const fatal = mqttConnectFailure(error);
    if (fatal !== undefined) {
      const Failure = fatal.kind === 'auth' ? SinkAuthError : SinkTlsError;
      const failure = new Failure(this.reporter.sink, redactUrl(this.config.url), fatal.detail, {
        cause: error,
      });
      this.reporter.error(failure);
      this.rejectFirst(failure);
      return;
    }
    if (this.attempt <= 1) this.reporter.log.warn({ err: error }, 'sparkplug mqtt client error');
    else this.reporter.log.debug({ err: error }, 'sparkplug mqtt client error');
  }

  private onMessage(client: MqttClient, topic: string, payload: Buffer): void {
    if (client !== this.client || this.stopping) return;
    const hostId = this.config.primaryHostId;
    if (hostId !== undefined && topic === hostStateTopic(hostId)) this.onHostState(client, payload);
    else if (topic === nodeTopic(this.ids, 'NCMD')) this.onNodeCommand(client, payload);
    else this.reporter.log.debug({ topic }, 'sparkplug command ignored (devices have no writable metrics)');
  }

  private onHostState(client: MqttClient, payload: Buffer): void {
    const state = parseHostState(payload);
    const log = this.reporter.log;
    if (state === undefined) {
      log.warn(
        { payload: payload.toString('utf8', 0, 64) },
        'primary host STATE is not Sparkplug 3.0 JSON {"online":…,"timestamp":…} (a 2.2 host?): ignored',
      );
      return;
    }
    if (!this.host.apply(state)) {
      log.debug({ state }, 'stale primary host STATE ignored');
      return;
    }
    if (state.online && !this.isBorn && this.subscribed) {
      log.info({ primaryHostId: this.config.primaryHostId }, 'primary host online');
      this.birth(client);
    } else if (!state.online && this.isBorn) {
      log.warn({ primaryHostId: this.config.primaryHostId }, 'primary host offline: NDEATH, DATA stops');
      this.isBorn = false;
      this.reporter.connected(false);
      this.publishDeath(client).catch((error: unknown) =>
        this.reporter.error(asError(error), { during: 'NDEATH on host offline' }),
      );
    }
  }

  private onNodeCommand(client: MqttClient, payload: Buffer): void {
    let command: SparkplugPayload;
    try {
      command = decodePayload(payload);
    } catch (error) {
      this.reporter.log.warn({ err: error }, 'undecodable NCMD ignored');
      return;
    }
    const rebirth = command.metrics?.some((m) => m.name === NODE_METRICS.rebirth.name && m.value === true);
    if (rebirth !== true) return;
    if (!this.isBorn) {
      this.reporter.log.info('rebirth requested while not born: the next birth follows the session rules');
      return;
    }
    this.reporter.log.info({ bdSeq: this.bdSeq.current }, 'rebirth requested by NCMD');
    this.birth(client);
  }

  /** NBIRTH (seq 0) and a DBIRTH per device, synchronously, so no DATA comes between. */
  private birth(client: MqttClient): void {
    this.seq = 0;
    this.send(client, nodeTopic(this.ids, 'NBIRTH'), nbirthPayload(this.bdSeq.current, Date.now()), 0);
    for (const device of this.devices.all()) this.birthDevice(client, device, true);
    this.isBorn = true;
    this.births += 1;
    this.reporter.connected(true);
    this.reporter.log.info(
      { bdSeq: this.bdSeq.current, devices: this.devices.size, births: this.births },
      'sparkplug NBIRTH',
    );
    this.resolveFirst();
    this.onBorn();
  }

  private birthDevice(client: MqttClient, device: SparkplugDevice, force = false): void {
    if (device.born && !force) return;
    const topic = this.deviceTopic('DBIRTH', device.id);
    this.send(client, topic, dbirthPayload(device, this.nextSeq(), Date.now()), 0);
    device.born = true;
  }

  private publishDeath(client: MqttClient): Promise<void> {
    const payload = ndeathPayload(this.bdSeq.current, Date.now());
    return this.send(client, nodeTopic(this.ids, 'NDEATH'), payload, 1).then((outcome) => {
      if (outcome !== 'acked') throw new Error('NDEATH not delivered');
    });
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) % 256;
    return this.seq;
  }

  private send(
    client: MqttClient,
    topic: string,
    payload: SparkplugPayload,
    qos: 0 | 1,
  ): Promise<PublishOutcome> {
    this.inFlight += 1;
    return new Promise((resolve) => {
      client.publish(topic, encodePayload(payload), { qos, retain: false }, (error) => {
        this.inFlight -= 1;
        if (error === undefined || error === null) {
          resolve('acked');
          return;
        }
        // The connection died under it; the caller counts a dropped decision, 'close' reconnects.
        this.reporter.log.warn({ err: error, topic }, 'sparkplug publish failed');
        resolve('dropped');
      });
    });
  }
}

function timedOut(ms: number): Error {
  return new Error(`timed out after ${ms} ms`);
}
