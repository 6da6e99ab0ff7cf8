/**
 * The service wires its PLC-facing outputs: one in-process `startService` run (simulated camera
 * -> demo model) with `sinks.mqtt` and `sinks.sparkplug` on a real mosquitto, `sinks.opcua` on a
 * free port (SignAndEncrypt, Basic256Sha256, a user) and an `ejector` section, checked with real
 * clients: an MQTT subscriber (decisions and `<prefix>/<camera>/eject`), a node-opcua client
 * (variables, heartbeat, EjectEventType events) and a Sparkplug host decoding with Eclipse Tahu.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OPCUACertificateManager } from 'node-opcua';
import {
  AttributeIds,
  type ClientSession,
  type ClientSubscription,
  constructEventFilter,
  MessageSecurityMode,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
  type Variant,
} from 'node-opcua-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDecision } from '../../connectors/codec/decision-json.js';
import { resolveDemoModelDir } from '../../src/app/service/demo-settings.js';
import { type RunConfig, RunConfigSchema } from '../../src/app/service/run-config.js';
import { type RunningService, type ServiceOutcome, startService } from '../../src/app/service/service.js';
import type { Decision } from '../../src/core/decision.js';
import { EJECT_SCHEMA } from '../../src/core/eject.js';
import { validateConfig } from '../../src/core/validate.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { parsePromText, promValue } from '../app/service/prom-text.js';
import { brokersInstalled, freePort, startMosquitto, type TestBroker } from '../helpers/brokers.js';
import { type Collector, collect, waitFor } from '../helpers/mqtt-collector.js';
import { type HostMessage, type SparkplugHost, startSparkplugHost } from '../helpers/sparkplug-host.js';

const skip = !brokersInstalled && process.env.CI !== 'true';
if (skip) console.warn('service PLC e2e test skipped: mosquitto is not installed');

const PREFIX = 'cubestream';
const CAMERA = 'cam0';
const GROUP = 'e2e-plc';
const EDGE = 'line1';
const USER = { username: 'plc', password: 'correct horse battery' };
/** Valves on the bar: 8 × 4 mm cover the 32 columns of 1 mm. */
const VALVES = 8;
/** Camera line rate, the ejector's too. */
const LINES_PER_SECOND = 640;
/** Belt speed, m/s. */
const BELT_SPEED = 0.1;
/** Camera line to valve bar, m. */
const DISTANCE_TO_VALVES = 0.3;
/** A blob reaches the valves 3 s after its capture: no eject is late, even on a busy machine. */
const TRAVEL_MS = (1000 * DISTANCE_TO_VALVES) / BELT_SPEED;
/** Upper bound on the run (blocks of 32 lines at 640 lines/s: 20 blocks a second, 60 s). */
const MAX_BLOCKS = 1_200;
/** How long any one condition may take to show up on a busy CI machine. */
const WAIT_MS = 20_000;

/** An eject message as received on `<prefix>/<camera>/eject`. */
interface EjectMessage {
  schema: string;
  cameraId: string;
  frameId: number;
  blobId: string;
  valves: number[];
  fireAt: number;
  openMs: number;
  budgetMs: number;
}

/** An OPC UA event's selected fields, by name. */
type OpcuaEvent = Record<string, unknown>;

/** Polls an async probe every 100 ms until it returns a value; rejects naming `what` after `timeoutMs`. */
async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(skip)('cubestream service -> OPC UA server, Sparkplug B edge node and eject commands', () => {
  let dir: string;
  let mosquitto: TestBroker;
  let sub: Collector;
  let host: SparkplugHost;
  let clientPki: OPCUACertificateManager;
  let opcuaPort: number;
  let service: RunningService | undefined;
  let outcome: ServiceOutcome | undefined;
  const clients: OPCUAClient[] = [];
  const logs: string[] = [];

  const decisions = (): Decision[] =>
    sub.messages
      .filter((m) => m.topic === `${PREFIX}/${CAMERA}/decisions`)
      .map((m) => parseDecision(m.payload));
  const ejects = (): EjectMessage[] => sub.json(`${PREFIX}/${CAMERA}/eject`) as EjectMessage[];
  /** {@link waitFor}, its error carrying the warnings and errors the service logged. */
  const waitLogged = async (predicate: () => boolean, what: string): Promise<void> => {
    try {
      await waitFor(predicate, what, WAIT_MS);
    } catch (error) {
      throw new Error(`${(error as Error).message}; service log:\n${logs.join('').slice(-4_000)}`);
    }
  };

  function runConfig(): RunConfig {
    return validateConfig(
      RunConfigSchema,
      {
        source: {
          kind: 'simulated',
          cameraId: CAMERA,
          width: 32,
          blockRows: 32,
          seed: 11,
          anomalyRate: 0.05,
          linesPerSecond: LINES_PER_SECOND,
          maxBlocks: MAX_BLOCKS,
        },
        model: { path: resolveDemoModelDir() },
        // Longer than the run: a busy machine delays blocks but never drops one.
        pipeline: { backpressure: { capacity: 256 } },
        sinks: {
          mqtt: {
            url: mosquitto.url,
            topicPrefix: PREFIX,
            reconnect: { initialMs: 100, maxMs: 400 },
            connectTimeoutMs: 10_000,
          },
          sparkplug: {
            url: mosquitto.url,
            groupId: GROUP,
            edgeNodeId: EDGE,
            heartbeatMs: 200,
            connectTimeoutMs: 10_000,
            bdSeqFile: path.join(dir, 'bdseq'),
          },
          opcua: {
            port: opcuaPort,
            securityModes: ['SignAndEncrypt'],
            pkiDir: path.join(dir, 'server-pki'),
            users: [USER],
            // opcua-sink.test.ts proves that the default refuses an unknown client certificate.
            automaticallyAcceptUnknownCertificate: true,
            heartbeatMs: 100,
          },
        },
        ejector: {
          lineRateHz: LINES_PER_SECOND,
          beltSpeedMetresPerSecond: BELT_SPEED,
          distanceToValvesMetres: DISTANCE_TO_VALVES,
          valveCount: VALVES,
          valvePitchMetres: 0.004,
          pixelPitchMetres: 0.001,
          minBlobArea: 1,
        },
        metrics: { port: 0, host: '127.0.0.1' },
        viewer: { enabled: false },
        shutdown: { deadlineMs: 20_000 },
      },
      'test',
    );
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-plc-'));
    mosquitto = await startMosquitto();
    [sub, host, opcuaPort] = await Promise.all([
      collect(mosquitto.url, [`${PREFIX}/${CAMERA}/#`]),
      startSparkplugHost(mosquitto.url, GROUP),
      freePort(),
    ]);
    clientPki = new OPCUACertificateManager({
      rootFolder: path.join(dir, 'client-pki'),
      automaticallyAcceptUnknownCertificate: true,
    });
    await clientPki.initialize();
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => logs.push(line) } });
    service = await startService(runConfig(), { logger });
  });

  afterAll(async () => {
    for (const client of clients) await client.disconnect().catch(() => undefined);
    await service?.stop('test cleanup');
    await Promise.all([sub?.close(), host?.close()]);
    await mosquitto?.dispose();
    await clientPki?.dispose();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** A session over SignAndEncrypt / Basic256Sha256 as the configured user. */
  async function userSession(): Promise<ClientSession> {
    const client = OPCUAClient.create({
      applicationName: 'cubestream-e2e-plc',
      securityMode: MessageSecurityMode.SignAndEncrypt,
      securityPolicy: SecurityPolicy.Basic256Sha256,
      endpointMustExist: false,
      clientCertificateManager: clientPki,
      connectionStrategy: { maxRetry: 3, initialDelay: 100, maxDelay: 500 },
    });
    clients.push(client);
    await client.connect(`opc.tcp://localhost:${opcuaPort}`);
    return client.createSession({
      type: UserTokenType.UserName,
      userName: USER.username,
      password: USER.password,
    });
  }

  it('publishes eject commands on <prefix>/cam0/eject for the blobs of anomalous decisions, on time', async () => {
    await waitLogged(() => ejects().length >= 3, `three ejects on ${PREFIX}/${CAMERA}/eject`);
    const received = ejects();
    for (const eject of received) {
      expect(eject.schema).toBe(EJECT_SCHEMA);
      expect(eject.cameraId).toBe(CAMERA);
      expect(eject.blobId).toMatch(new RegExp(`^${eject.frameId}:\\d+:\\d+$`));
      expect(eject.valves.length).toBeGreaterThan(0);
      for (const valve of eject.valves) {
        expect(Number.isInteger(valve)).toBe(true);
        expect(valve).toBeGreaterThanOrEqual(0);
        expect(valve).toBeLessThan(VALVES);
      }
      expect(eject.openMs).toBeGreaterThan(0);
      expect(eject.budgetMs).toBeGreaterThanOrEqual(0);
    }
    // Each eject belongs to an anomalous decision received on <prefix>/cam0/decisions, and fires
    // after that block was captured (a blob's leading edge: at most a block earlier, + 3 s travel).
    const key = (frameId: number, rowOffset: number) => `${frameId}:${rowOffset}`;
    await waitFor(
      () => {
        const known = new Set(decisions().map((d) => key(d.frameId, d.rowOffset)));
        return received.every((e) => known.has(e.blobId.split(':').slice(0, 2).join(':')));
      },
      'the decisions of the ejects',
      WAIT_MS,
    );
    const byBlock = new Map(decisions().map((d) => [key(d.frameId, d.rowOffset), d]));
    for (const eject of received) {
      const [frameId, rowOffset] = eject.blobId.split(':').map(Number);
      const decision = byBlock.get(key(frameId ?? -1, rowOffset ?? -1));
      expect(decision, eject.blobId).toBeDefined();
      expect(decision?.anomalous, eject.blobId).toBe(true);
      expect(decision?.frameId).toBe(eject.frameId);
      const index = Number(eject.blobId.split(':')[2]);
      expect(index).toBeLessThan(decision?.blobs.length ?? 0);
      expect(eject.fireAt).toBeGreaterThan(decision?.capturedAt ?? Number.POSITIVE_INFINITY);
      expect(eject.fireAt).toBeLessThanOrEqual((decision?.capturedAt ?? 0) + TRAVEL_MS + 1);
    }
  });

  it('serves Objects/Cameras/cam0 over SignAndEncrypt: decision variables, τ, a running Heartbeat and EjectEventType events', async () => {
    const session = await userSession();
    const namespaces = (await session.readNamespaceArray()) as string[];
    const ns = namespaces.indexOf('urn:cubestream');
    expect(ns).toBeGreaterThan(0);

    // Objects/Cameras/cam0/<name> by browse path, as a PLC would find it.
    const resolve = async (name: string): Promise<string> => {
      const result = await session.translateBrowsePath({
        startingNode: 'i=85',
        relativePath: {
          elements: ['Cameras', CAMERA, name].map((n) => ({ targetName: { namespaceIndex: ns, name: n } })),
        },
      });
      const target = result.targets?.[0]?.targetId.toString();
      expect(target, `Objects/Cameras/${CAMERA}/${name}`).toBeDefined();
      return target ?? '';
    };
    const [anomalousId, frameIdId, thresholdId, heartbeatId, driftId, statusId] = await Promise.all(
      ['Anomalous', 'FrameId', 'Threshold', 'Heartbeat', 'CenterDrift', 'Status'].map(resolve),
    );
    const cameraId = `ns=${ns};s=Cameras.${CAMERA}`;

    // The events first: ejects keep coming while the camera runs.
    const subscription: ClientSubscription = await session.createSubscription2({
      requestedPublishingInterval: 100,
      requestedLifetimeCount: 100,
      requestedMaxKeepAliveCount: 10,
      publishingEnabled: true,
    });
    const fields = [
      'EventType',
      'SourceName',
      `${ns}:FrameId`,
      `${ns}:BlobId`,
      `${ns}:Valves`,
      `${ns}:FireAt`,
    ];
    const item = await subscription.monitor(
      { nodeId: cameraId, attributeId: AttributeIds.EventNotifier },
      { samplingInterval: 0, queueSize: 1000, filter: constructEventFilter(fields) },
      TimestampsToReturn.Neither,
    );
    const events: OpcuaEvent[] = [];
    item.on('changed', (eventFields: unknown) => {
      const variants = eventFields as Variant[];
      events.push(Object.fromEntries(fields.map((f, i) => [f.replace(/^\d+:/, ''), variants[i]?.value])));
    });

    // A decision's variables: Anomalous and FrameId, read together once the first decision set
    // them, are those of one decision received on MQTT, stamped with its capture time.
    const [anomalous, frameId] = await eventually(async () => {
      const values = await session.read(
        [anomalousId, frameIdId].map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
        0,
      );
      return values[0]?.statusCode.name === 'Good' ? values : undefined;
    }, 'a decision in Objects/Cameras/cam0');
    expect(typeof anomalous?.value.value).toBe('boolean');
    expect(frameId?.statusCode.name).toBe('Good');
    const readFrame = frameId?.value.value as number;
    await waitFor(
      () => decisions().some((d) => d.frameId === readFrame),
      `decision ${readFrame} on MQTT`,
      WAIT_MS,
    );
    const decision = decisions().find((d) => d.frameId === readFrame);
    expect(anomalous?.value.value).toBe(decision?.anomalous);
    expect(anomalous?.sourceTimestamp?.getTime()).toBe(decision?.capturedAt);
    const status = await session.read({ nodeId: statusId, attributeId: AttributeIds.Value });
    expect(status.value.value).toBe('online');

    // τ and the centre's drift: CenterDrift is set only by the once-a-second status push.
    const [threshold, drift] = await eventually(async () => {
      const values = await session.read(
        [thresholdId, driftId].map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
        0,
      );
      return values[1]?.statusCode.name === 'Good' ? values : undefined;
    }, 'the status push (CenterDrift)');
    expect(threshold?.value.value).toBeGreaterThan(0);
    expect(drift?.value.value).toBeGreaterThanOrEqual(0);

    const beat = async () => Number((await session.read({ nodeId: heartbeatId })).value.value);
    const first = await beat();
    await eventually(async () => ((await beat()) > first ? true : undefined), 'the Heartbeat to increase');

    const ejectType = `ns=${ns};s=EjectEventType`;
    const ejectEvents = () => events.filter((e) => String(e.EventType) === ejectType);
    await waitLogged(() => ejectEvents().length >= 1, 'an EjectEventType event');
    const [event = {}] = ejectEvents();
    expect(event.SourceName).toBe(CAMERA);
    expect(typeof event.BlobId).toBe('string');
    const valves = Array.from(event.Valves as Uint32Array);
    expect(valves.length).toBeGreaterThan(0);
    expect(valves.every((v) => v >= 0 && v < VALVES)).toBe(true);
    // The same command went out on MQTT.
    await waitFor(
      () => ejects().some((e) => e.blobId === event.BlobId),
      `eject ${String(event.BlobId)} on MQTT`,
    );
    const viaMqtt = ejects().find((e) => e.blobId === event.BlobId);
    expect(event.FrameId).toBe(viaMqtt?.frameId);
    expect(valves).toEqual(viaMqtt?.valves);
    expect(event.FireAt).toBe(viaMqtt?.fireAt);
    await subscription.terminate();
    await session.close();
  });

  it('runs a Sparkplug B edge node: NBIRTH, DBIRTH cam0, DDATA of decisions, status and Eject/*', async () => {
    const births = () => host.of('DBIRTH', EDGE).filter((m) => m.deviceId === CAMERA);
    await waitFor(() => host.of('NBIRTH', EDGE).length > 0 && births().length > 0, 'NBIRTH and DBIRTH cam0');
    const birth = births().at(-1) as HostMessage;
    const alias = (name: string): number | undefined => birth.metrics.find((m) => m.name === name)?.alias;
    for (const name of ['Anomalous', 'Threshold', 'Eject/Count', 'Eject/BlobId']) {
      expect(alias(name), name).toBeDefined();
    }
    const ddata = () => host.of('DDATA', EDGE).filter((m) => m.deviceId === CAMERA);
    const has = (m: HostMessage, name: string) => m.metrics.some((x) => x.alias === alias(name));
    const metricOf = (m: HostMessage, name: string) => m.metrics.find((x) => x.alias === alias(name))?.value;

    await waitFor(() => ddata().some((m) => has(m, 'Anomalous')), 'a DDATA carrying Anomalous', WAIT_MS);
    expect(typeof metricOf(ddata().find((m) => has(m, 'Anomalous')) as HostMessage, 'Anomalous')).toBe(
      'boolean',
    );
    // The once-a-second status push: τ alone (with the centre's drift when tracked).
    await waitFor(
      () => ddata().some((m) => has(m, 'Threshold') && !has(m, 'Anomalous')),
      'a status DDATA carrying Threshold',
      WAIT_MS,
    );
    const status = ddata().find((m) => has(m, 'Threshold') && !has(m, 'Anomalous')) as HostMessage;
    expect(metricOf(status, 'Threshold')).toBeGreaterThan(0);

    const withEject = () => ddata().filter((m) => has(m, 'Eject/Count'));
    await waitLogged(() => withEject().length > 0, 'a DDATA carrying Eject/Count');
    const eject = withEject()[0] as HostMessage;
    expect(metricOf(eject, 'Eject/Count')).toBeGreaterThan(0);
    const blobId = metricOf(eject, 'Eject/BlobId');
    await waitFor(() => ejects().some((e) => e.blobId === blobId), `eject ${String(blobId)} on MQTT`);
    const viaMqtt = ejects().find((e) => e.blobId === blobId);
    expect(metricOf(eject, 'Eject/Valves')).toBe(viaMqtt?.valves.join(','));
    expect(metricOf(eject, 'Eject/FrameId')).toBe(viaMqtt?.frameId);
  });

  it('stops cleanly: every eject sent is counted, belongs to an anomalous decision, and the edge node dies', async () => {
    outcome = await (service as RunningService).stop('test done');
    expect(outcome, logs.join('').slice(-4_000)).toMatchObject({ code: 0, rejected: 0 });
    const running = service as RunningService;
    const samples = parsePromText(await running.metrics.registry.metrics());
    const sent = promValue(samples, 'cubestream_ejects_total', { camera: CAMERA });
    expect(sent).toBeGreaterThan(0);
    await waitFor(() => ejects().length >= sent, `${sent} ejects on MQTT`);
    await waitFor(() => decisions().length >= (outcome?.decisions ?? 0), 'every decision on MQTT');
    const received = ejects();
    expect(received).toHaveLength(sent);
    expect(new Set(received.map((e) => e.blobId)).size).toBe(sent);
    const anomalousBlocks = new Set(
      decisions()
        .filter((d) => d.anomalous)
        .map((d) => `${d.frameId}:${d.rowOffset}`),
    );
    for (const eject of received) {
      expect(anomalousBlocks.has(eject.blobId.split(':').slice(0, 2).join(':')), eject.blobId).toBe(true);
    }
    // The Sparkplug edge node counted every one of them in Eject/Count, then died (NDEATH).
    await waitFor(() => host.of('NDEATH', EDGE).length > 0, 'NDEATH');
    const birth = host
      .of('DBIRTH', EDGE)
      .filter((m) => m.deviceId === CAMERA)
      .at(-1);
    const countAlias = birth?.metrics.find((m) => m.name === 'Eject/Count')?.alias;
    const counts = host
      .of('DDATA', EDGE)
      .filter((m) => m.deviceId === CAMERA)
      .flatMap((m) => m.metrics.filter((x) => x.alias === countAlias).map((x) => Number(x.value)));
    expect(Math.max(...counts)).toBe(sent);
    console.info(
      `service PLC e2e: ${outcome.decisions} decisions, ${decisions().filter((d) => d.anomalous).length} anomalous, ` +
        `${sent} ejects, ${promValue(samples, 'cubestream_ejects_late_total', { camera: CAMERA })} late`,
    );
  });
});
