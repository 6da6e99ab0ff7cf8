import { mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OPCUACertificateManager } from 'node-opcua';
import {
  AttributeIds,
  BrowseDirection,
  type ClientSession,
  constructEventFilter,
  type DataValue,
  MessageSecurityMode,
  type MonitoringParametersOptions,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  type UserIdentityInfo,
  UserTokenType,
  type Variant,
} from 'node-opcua-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsFileError } from '../../../connectors/shared/tls-files.js';
import { SinkClosedError } from '../../../connectors/sinks/errors.js';
import { CAMERA_VARIABLES } from '../../../connectors/sinks/opcua/opcua-camera-node.js';
import {
  ANOMALY_EVENT_SEVERITY,
  EJECT_EVENT_SEVERITY,
} from '../../../connectors/sinks/opcua/opcua-events.js';
import { OpcuaDecisionSink } from '../../../connectors/sinks/opcua/opcua-sink.js';
import {
  OPCUA_SINK_DEFAULTS,
  parseOpcuaSinkOptions,
} from '../../../connectors/sinks/opcua/opcua-sink-options.js';
import { OptionError } from '../../../src/core/options.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { makeDecision } from '../../helpers/decision-fixture.js';
import { waitFor } from '../../helpers/mqtt-collector.js';

const logger = createLogger({ level: 'silent' });
const USER = { username: 'plc', password: 'correct horse' };

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Polls an async condition every 50 ms until it holds; rejects naming `what` after `timeoutMs`. */
async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
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
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`, { cause: last });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('OpcuaDecisionSink with a node-opcua client (SignAndEncrypt, Basic256Sha256)', () => {
  let dir: string;
  let pkiDir: string;
  let clientPki: OPCUACertificateManager;
  let sink: OpcuaDecisionSink;
  let endpoint: string;
  let ns: number;
  const metrics = createMetrics({ defaultMetrics: false });
  const clients: OPCUAClient[] = [];

  const newClient = (): OPCUAClient => {
    const client = OPCUAClient.create({
      applicationName: 'cubestream-test-client',
      securityMode: MessageSecurityMode.SignAndEncrypt,
      securityPolicy: SecurityPolicy.Basic256Sha256,
      endpointMustExist: false,
      clientCertificateManager: clientPki,
      connectionStrategy: { maxRetry: 0, initialDelay: 50, maxDelay: 100 },
    });
    clients.push(client);
    return client;
  };

  /** A client connected over SignAndEncrypt, with its certificate trusted by the server. */
  let trusted: Promise<void> | undefined;
  const trustClient = (): Promise<void> => {
    trusted ??= (async () => {
      const first = newClient();
      // Default: the server refuses an unknown client certificate and files it under rejected/.
      await expect(first.connect(endpoint)).rejects.toThrow();
      await first.disconnect();
      const rejectedDir = path.join(pkiDir, 'rejected');
      const rejected = await eventually(async () => {
        const files = (await readdir(rejectedDir)).filter((f) => f.endsWith('.pem'));
        return files.length > 0 ? files : undefined;
      }, 'the client certificate in rejected/');
      expect(rejected).toHaveLength(1);
      const file = rejected[0] ?? '';
      await rename(path.join(rejectedDir, file), path.join(pkiDir, 'trusted', 'certs', file));
      // The server watches trusted/: the same client now connects.
      await eventually(async () => {
        const client = newClient();
        try {
          await client.connect(endpoint);
          await client.disconnect();
          return true;
        } catch (error) {
          await client.disconnect();
          throw error;
        }
      }, 'the moved certificate to be trusted');
    })();
    return trusted;
  };

  const openSession = async (identity: UserIdentityInfo): Promise<ClientSession> => {
    await trustClient();
    const client = newClient();
    await client.connect(endpoint);
    return client.createSession(identity);
  };
  const userSession = () =>
    openSession({ type: UserTokenType.UserName, userName: USER.username, password: USER.password });

  const nodeId = (cameraId: string, variable?: string) =>
    `ns=${ns};s=Cameras.${cameraId}${variable === undefined ? '' : `.${variable}`}`;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opcua-sink-'));
    pkiDir = path.join(dir, 'server-pki');
    clientPki = new OPCUACertificateManager({
      rootFolder: path.join(dir, 'client-pki'),
      automaticallyAcceptUnknownCertificate: true,
    });
    await clientPki.initialize();
    const port = await freePort();
    sink = new OpcuaDecisionSink({
      port,
      pkiDir,
      users: [USER],
      cameraIds: ['cam0'],
      maxCameras: 3,
      heartbeatMs: 100,
      modelVersion: 'test-model-1',
      metrics,
      logger,
    });
    expect(sink.connected).toBe(false);
    await sink.connect();
    expect(sink.connected).toBe(true);
    endpoint = `opc.tcp://localhost:${port}`;
    const session = await userSession();
    const namespaces = (await session.readNamespaceArray()) as string[];
    ns = namespaces.indexOf('urn:cubestream');
    expect(ns).toBeGreaterThan(0);
    await session.close();
  });

  afterAll(async () => {
    for (const client of clients) await client.disconnect().catch(() => undefined);
    await sink?.close();
    await clientPki?.dispose();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('refuses an untrusted client certificate (filed in <pkiDir>/rejected) until it is moved to trusted/certs', async () => {
    // beforeAll went through this; the promise holds its assertions.
    await trustClient();
    expect(await readdir(path.join(pkiDir, 'trusted', 'certs'))).toHaveLength(1);
    expect(await readdir(path.join(pkiDir, 'own', 'certs'))).toContain('certificate.pem');
  });

  it('serves Objects/Cameras/cam0 with its variables; a decision sets them with the capture time as source timestamp', async () => {
    const session = await userSession();
    const cameras = await session.browse({
      nodeId: `ns=${ns};s=Cameras`,
      browseDirection: BrowseDirection.Forward,
      resultMask: 0x3f,
    });
    expect(cameras.references?.map((r) => r.browseName.toString())).toContain(`${ns}:cam0`);
    const paths = await session.translateBrowsePath({
      startingNode: 'i=85',
      relativePath: {
        elements: [
          { targetName: { namespaceIndex: ns, name: 'Cameras' } },
          { targetName: { namespaceIndex: ns, name: 'cam0' } },
          { targetName: { namespaceIndex: ns, name: 'Anomalous' } },
        ],
      },
    });
    expect(paths.targets?.[0]?.targetId.toString()).toBe(nodeId('cam0', 'Anomalous'));
    const children = await session.browse(nodeId('cam0'));
    expect(children.references?.map((r) => r.browseName.name).sort()).toEqual(
      Object.keys(CAMERA_VARIABLES).sort(),
    );

    const decision = makeDecision({ cameraId: 'cam0', frameId: 42, anomalous: true, anomalousPixels: 12 });
    expect(await sink.publish(decision)).toBe('acked');
    const names = Object.keys(CAMERA_VARIABLES);
    const values = await session.read(
      names.map((name) => ({ nodeId: nodeId('cam0', name), attributeId: AttributeIds.Value })),
      0,
    );
    const byName = new Map<string, DataValue>(names.map((name, i) => [name, values[i] as DataValue]));
    const value = (name: string): unknown => byName.get(name)?.value.value;
    expect(value('Anomalous')).toBe(true);
    expect(value('AnomalousPixels')).toBe(12);
    expect(value('FrameId')).toBe(42);
    expect(value('Threshold')).toBe(decision.threshold);
    expect(value('BlobCount')).toBe(1);
    expect(value('ModelVersion')).toBe('test-model-1');
    expect(value('Status')).toBe('online');
    expect((value('LastDecisionTime') as Date).getTime()).toBe(decision.decidedAt);
    expect(byName.get('Anomalous')?.sourceTimestamp?.getTime()).toBe(decision.capturedAt);
    expect(byName.get('FrameId')?.sourceTimestamp?.getTime()).toBe(decision.capturedAt);
    expect(byName.get('CenterDrift')?.statusCode.name).toBe('BadWaitingForInitialData');

    await sink.publishStatus('cam0', { threshold: 0.5, centerDrift: 0.02, state: 'offline' });
    const [threshold, drift, status] = await session.read(
      ['Threshold', 'CenterDrift', 'Status'].map((name) => ({
        nodeId: nodeId('cam0', name),
        attributeId: AttributeIds.Value,
      })),
    );
    expect(threshold?.value.value).toBe(0.5);
    expect(drift?.value.value).toBe(0.02);
    expect(drift?.statusCode.name).toBe('Good');
    expect(status?.value.value).toBe('offline');
    await sink.publishStatus('cam0', { state: 'online' });
    await session.close();
  });

  it('reports exactly one change of Cameras/cam0/Anomalous per anomalous decision', async () => {
    const session = await userSession();
    expect(await sink.publish(makeDecision({ cameraId: 'cam0', frameId: 100, anomalous: false }))).toBe(
      'acked',
    );
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: 50,
      requestedLifetimeCount: 100,
      requestedMaxKeepAliveCount: 10,
      publishingEnabled: true,
    });
    const parameters: MonitoringParametersOptions = {
      samplingInterval: 0,
      queueSize: 1000,
      discardOldest: false,
    };
    const item = await subscription.monitor(
      { nodeId: nodeId('cam0', 'Anomalous'), attributeId: AttributeIds.Value },
      parameters,
      TimestampsToReturn.Both,
    );
    const seen: unknown[] = [];
    item.on('changed', (dataValue: DataValue) => seen.push(dataValue.value.value));
    await waitFor(() => seen.length === 1, 'the initial value');
    expect(seen[0]).toBe(false);

    // 20 decisions alternating anomalous / normal, then two normal ones in a row (no change).
    const decisions = Array.from({ length: 20 }, (_, i) =>
      makeDecision({
        cameraId: 'cam0',
        frameId: 101 + i,
        anomalous: i % 2 === 0,
        anomalousPixels: i % 2 === 0 ? 5 : 0,
      }),
    );
    decisions.push(makeDecision({ cameraId: 'cam0', frameId: 121, anomalous: false, anomalousPixels: 0 }));
    for (const decision of decisions) expect(await sink.publish(decision)).toBe('acked');
    const anomalous = decisions.filter((d) => d.anomalous).length;
    await waitFor(() => seen.length >= 1 + 2 * anomalous, `${2 * anomalous} changes`);
    expect(seen.slice(1)).toEqual(Array.from({ length: 2 * anomalous }, (_, i) => i % 2 === 0));
    expect(seen.slice(1).filter((v) => v === true)).toHaveLength(anomalous);
    await subscription.terminate();
    await session.close();
  });

  it('raises an AnomalyEventType event (severity 700) and an EjectEventType event on the camera object', async () => {
    const session = await userSession();
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: 50,
      requestedLifetimeCount: 100,
      requestedMaxKeepAliveCount: 10,
      publishingEnabled: true,
    });
    const fields = [
      'EventType',
      'SourceName',
      'Message',
      'Severity',
      'Time',
      `${ns}:FrameId`,
      `${ns}:AnomalousPixels`,
      `${ns}:BlobId`,
      `${ns}:Valves`,
      `${ns}:FireAt`,
    ];
    const item = await subscription.monitor(
      { nodeId: nodeId('cam0'), attributeId: AttributeIds.EventNotifier },
      { samplingInterval: 0, queueSize: 100, filter: constructEventFilter(fields) },
      TimestampsToReturn.Neither,
    );
    const events: Record<string, unknown>[] = [];
    item.on('changed', (eventFields: unknown) => {
      const variants = eventFields as Variant[];
      events.push(Object.fromEntries(fields.map((f, i) => [f.replace(/^\d+:/, ''), variants[i]?.value])));
    });
    // Let the monitored item settle before raising.
    await new Promise((resolve) => setImmediate(resolve));

    const normal = makeDecision({ cameraId: 'cam0', frameId: 200, anomalous: false, anomalousPixels: 0 });
    const anomalous = makeDecision({ cameraId: 'cam0', frameId: 201, anomalous: true, anomalousPixels: 17 });
    await sink.publish(normal);
    await sink.publish(anomalous);
    expect(
      sink.raiseEject('cam0', { frameId: 201, blobId: '201:0:0', valves: [3, 4], fireAt: 1_700_000_000_999 }),
    ).toBe(true);
    await waitFor(() => events.length >= 2, 'two events');
    const [anomaly = {}, eject = {}] = events;
    expect(String(anomaly.EventType)).toBe(`ns=${ns};s=AnomalyEventType`);
    expect(anomaly.SourceName).toBe('cam0');
    expect(anomaly.Severity).toBe(ANOMALY_EVENT_SEVERITY);
    expect((anomaly.Message as { text: string }).text).toBe('frame 201: 17 anomalous pixels in 1 blob(s)');
    expect(anomaly.FrameId).toBe(201);
    expect(anomaly.AnomalousPixels).toBe(17);
    expect((anomaly.Time as Date).getTime()).toBe(anomalous.capturedAt);

    expect(String(eject.EventType)).toBe(`ns=${ns};s=EjectEventType`);
    expect(eject.Severity).toBe(EJECT_EVENT_SEVERITY);
    expect(eject.FrameId).toBe(201);
    expect(eject.BlobId).toBe('201:0:0');
    expect(Array.from(eject.Valves as Uint32Array)).toEqual([3, 4]);
    expect(eject.FireAt).toBe(1_700_000_000_999);
    expect(events).toHaveLength(2);
    expect(() => sink.raiseEject('cam0', { frameId: 1, blobId: '1:0:0', valves: [-1], fireAt: 0 })).toThrow(
      OptionError,
    );
    await subscription.terminate();
    await session.close();
  });

  it('refuses anonymous sessions, a wrong password and an X509 user token', async () => {
    // No endpoint offers an anonymous token policy, so the client cannot even ask.
    const probe = newClient();
    await probe.connect(endpoint);
    const endpoints = await probe.getEndpoints();
    const tokenTypes = endpoints.flatMap((e) => (e.userIdentityTokens ?? []).map((t) => t.tokenType));
    expect(tokenTypes).toContain(UserTokenType.UserName);
    expect(tokenTypes).not.toContain(UserTokenType.Anonymous);
    await expect(probe.createSession({ type: UserTokenType.Anonymous })).rejects.toThrow(/ANONYMOUS/);
    await expect(
      openSession({ type: UserTokenType.UserName, userName: USER.username, password: 'wrong' }),
    ).rejects.toThrow(/BadUserAccessDenied/);
    await expect(
      openSession({ type: UserTokenType.UserName, userName: 'nobody', password: USER.password }),
    ).rejects.toThrow(/BadUserAccessDenied/);
    // node-opcua's default user PKI trusts every certificate; the sink's own refuses them.
    const client = newClient();
    await client.connect(endpoint);
    const privateKey = await readFile(
      path.join(dir, 'client-pki', 'own', 'private', 'private_key.pem'),
      'utf8',
    );
    await expect(
      client.createSession({
        type: UserTokenType.Certificate,
        certificateData: client.getCertificate(),
        privateKey,
      }),
    ).rejects.toThrow(/BadIdentityToken/);
  });

  it('increments Heartbeat while it runs', async () => {
    const session = await userSession();
    const read = async () =>
      Number((await session.read({ nodeId: nodeId('cam0', 'Heartbeat') })).value.value);
    const first = await read();
    await eventually(
      async () => ((await read()) > first + 1 ? true : undefined),
      'the heartbeat to increase',
    );
    await session.close();
  });

  it('adds a camera on its first decision, up to maxCameras, and drops (and counts) the rest', async () => {
    const session = await userSession();
    expect(await sink.publish(makeDecision({ cameraId: 'cam1', frameId: 1 }))).toBe('acked');
    expect(await sink.publish(makeDecision({ cameraId: 'cam2', frameId: 1 }))).toBe('acked');
    expect(await sink.publish(makeDecision({ cameraId: 'cam3', frameId: 1 }))).toBe('dropped');
    expect(sink.cameraCount).toBe(3);
    expect(sink.refusedDecisionCount).toBe(1);
    expect(await metrics.registry.metrics()).toContain('cubestream_publish_errors_total{sink="opcua"} 1');
    const cameras = await session.browse(`ns=${ns};s=Cameras`);
    expect(cameras.references?.map((r) => r.browseName.name).sort()).toEqual(['cam0', 'cam1', 'cam2']);
    const frame = await session.read({ nodeId: nodeId('cam1', 'FrameId') });
    expect(frame.value.value).toBe(1);
    await session.close();
  });

  it('close() stops the heartbeat and the server', async () => {
    for (const client of clients) await client.disconnect().catch(() => undefined);
    await sink.close();
    expect(sink.connected).toBe(false);
    await expect(sink.publish(makeDecision({ cameraId: 'cam0' }))).rejects.toBeInstanceOf(SinkClosedError);
    const port = sink.settings.port;
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});

describe('OPC UA sink options', () => {
  it('has secure defaults', () => {
    expect(OPCUA_SINK_DEFAULTS).toMatchObject({
      port: 4840,
      securityModes: ['SignAndEncrypt'],
      allowAnonymous: false,
      automaticallyAcceptUnknownCertificate: false,
      applicationUri: 'urn:cubestream:opcua',
      namespaceUri: 'urn:cubestream',
      maxCameras: 64,
      heartbeatMs: 1000,
      alternateHostnames: [],
      users: [],
    });
  });

  it('refuses no users without allowAnonymous, and half a certificate, with an OptionError', () => {
    expect(() => new OpcuaDecisionSink({})).toThrow(OptionError);
    expect(() => parseOpcuaSinkOptions({})).toThrow(
      'opcua sink option users = array(0): at least one user when allowAnonymous is false',
    );
    expect(parseOpcuaSinkOptions({ allowAnonymous: true }).users).toEqual([]);
    expect(() => parseOpcuaSinkOptions({ allowAnonymous: true, certificateFile: 'c.pem' })).toThrow(
      /privateKeyFile/,
    );
    expect(() => parseOpcuaSinkOptions({ users: [USER], securityModes: ['Encrypt' as 'Sign'] })).toThrow(
      /opcua sink option securityModes\.0 = "Encrypt"/,
    );
    expect(() => parseOpcuaSinkOptions({ users: [{ username: 'plc', password: '' }] })).toThrow(
      /users\.0\.password = "\[redacted\]"/,
    );
  });

  it('serves a configured certificate, and refuses to start when the configured file is missing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'opcua-sink-cert-'));
    const clientPki = new OPCUACertificateManager({ rootFolder: path.join(dir, 'client-pki') });
    try {
      // A first server generates a certificate; a second one is configured with it.
      const first = new OpcuaDecisionSink({
        port: await freePort(),
        pkiDir: path.join(dir, 'a'),
        allowAnonymous: true,
        logger,
      });
      await first.connect();
      await first.close();
      const certificateFile = path.join(dir, 'a', 'own', 'certs', 'certificate.pem');
      const privateKeyFile = path.join(dir, 'a', 'own', 'private', 'private_key.pem');
      const port = await freePort();
      const second = new OpcuaDecisionSink({
        port,
        pkiDir: path.join(dir, 'b'),
        certificateFile,
        privateKeyFile,
        securityModes: ['None', 'SignAndEncrypt'],
        allowAnonymous: true,
        logger,
      });
      await second.connect();
      await clientPki.initialize();
      const client = OPCUAClient.create({ endpointMustExist: false, clientCertificateManager: clientPki });
      await client.connect(`opc.tcp://localhost:${port}`);
      const endpoints = await client.getEndpoints();
      await client.disconnect();
      await second.close();
      const pem = await readFile(certificateFile, 'utf8');
      const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      expect(endpoints.map((e) => e.securityPolicyUri)).toContain(SecurityPolicy.Basic256Sha256);
      expect(endpoints.every((e) => e.serverCertificate?.equals(der))).toBe(true);
      await expect(readdir(path.join(dir, 'b', 'own', 'certs'))).resolves.toEqual([]);

      const missing = new OpcuaDecisionSink({
        port: await freePort(),
        pkiDir: path.join(dir, 'c'),
        certificateFile: path.join(dir, 'nope.pem'),
        privateKeyFile,
        allowAnonymous: true,
        logger,
      });
      await expect(missing.connect()).rejects.toBeInstanceOf(TlsFileError);
      await missing.close();
    } finally {
      await clientPki.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects connect() when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'opcua-sink-busy-'));
    const sink = new OpcuaDecisionSink({ port, pkiDir: dir, allowAnonymous: true, logger });
    try {
      await expect(sink.connect()).rejects.toThrow();
      expect(sink.connected).toBe(false);
      expect(await sink.publish(makeDecision({ cameraId: 'cam0' }))).toBe('dropped');
    } finally {
      await sink.close();
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
