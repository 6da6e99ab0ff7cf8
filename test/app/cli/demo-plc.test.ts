/**
 * `cubestream demo --opcua-port N --sparkplug` as a child process against a test mosquitto: the
 * demo's OPC UA server answers an anonymous client over security None on 127.0.0.1, its Sparkplug
 * edge node is born on the decisions' broker, and its belt's ejector sends eject commands. Killed
 * with -9, it goes silent the way a PLC watchdog sees it: the OPC UA Heartbeat stops counting and
 * the broker publishes the edge node's NDEATH.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OPCUACertificateManager } from 'node-opcua';
import {
  AttributeIds,
  ClientMonitoredItem,
  ClientSubscription,
  MessageSecurityMode,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
} from 'node-opcua-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../../e2e/cli-process.js';
import { brokersInstalled, freePort, startMosquitto, type TestBroker } from '../../helpers/brokers.js';
import { collect, waitFor } from '../../helpers/mqtt-collector.js';
import { startSparkplugHost } from '../../helpers/sparkplug-host.js';

const skip = !brokersInstalled && process.env.CI !== 'true';

describe.skipIf(skip)('cubestream demo with the PLC outputs', () => {
  let mosquitto: TestBroker;
  let dir: string;
  beforeAll(async () => {
    mosquitto = await startMosquitto();
    dir = await mkdtemp(path.join(tmpdir(), 'demo-plc-'));
  });
  afterAll(async () => {
    await mosquitto?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('--opcua-port N --sparkplug: an anonymous OPC UA read, a Sparkplug birth, eject commands', async () => {
    const sub = await collect(mosquitto.url, ['cubestream/+/eject']);
    const host = await startSparkplugHost(mosquitto.url, 'cubestream-demo');
    const opcuaPort = await freePort();
    const proc = spawnCli([
      'demo',
      '--duration',
      '20',
      '--mqtt',
      mosquitto.url,
      '--opcua-port',
      String(opcuaPort),
      '--sparkplug',
      '--metrics-port',
      String(await freePort()),
      '--viewer-port',
      String(await freePort()),
    ]);
    const pki = new OPCUACertificateManager({
      rootFolder: path.join(dir, 'client-pki'),
      automaticallyAcceptUnknownCertificate: true,
    });
    await pki.initialize();
    const client = OPCUAClient.create({
      applicationName: 'demo-plc-test',
      securityMode: MessageSecurityMode.None,
      securityPolicy: SecurityPolicy.None,
      endpointMustExist: false,
      clientCertificateManager: pki,
      connectionStrategy: { maxRetry: 40, initialDelay: 250, maxDelay: 500 },
    });
    try {
      await waitFor(() => host.of('DBIRTH', 'demo').length > 0, 'the DBIRTH of cam0');
      expect(host.of('NBIRTH', 'demo')[0]?.metrics.some((m) => m.name === 'bdSeq')).toBe(true);
      await client.connect(`opc.tcp://127.0.0.1:${opcuaPort}`);
      const session = await client.createSession({ type: UserTokenType.Anonymous });
      const ns = ((await session.readNamespaceArray()) as string[]).indexOf('urn:cubestream');
      expect(ns).toBeGreaterThan(0);
      await waitFor(() => sub.json('cubestream/cam0/eject').length > 0, 'an eject command');
      const [frameId, verdict] = await session.read([
        { nodeId: `ns=${ns};s=Cameras.cam0.FrameId` },
        { nodeId: `ns=${ns};s=Cameras.cam0.Verdict` },
      ]);
      expect(Number(frameId?.value.value)).toBeGreaterThan(0);
      expect(['normal', 'anomalous']).toContain(verdict?.value.value);
      const eject = sub.json('cubestream/cam0/eject')[0] as Record<string, unknown>;
      expect(eject).toMatchObject({ schema: 'cubestream.eject/1', cameraId: 'cam0' });
      expect(Number(eject.budgetMs)).toBeGreaterThan(0);
      await session.close();
    } finally {
      await client.disconnect();
      await host.close();
      await sub.close();
      proc.child.kill('SIGINT');
      const { code } = await proc.exited;
      expect(code, proc.stderr()).toBe(0);
    }
  }, 60_000);

  it('kill -9: the OPC UA Heartbeat stops counting and the Sparkplug NDEATH is published', async () => {
    const host = await startSparkplugHost(mosquitto.url, 'cubestream-demo');
    const opcuaPort = await freePort();
    const proc = spawnCli([
      'demo',
      '--duration',
      '60',
      '--mqtt',
      mosquitto.url,
      '--opcua-port',
      String(opcuaPort),
      '--sparkplug',
      '--metrics-port',
      String(await freePort()),
      '--viewer-port',
      String(await freePort()),
    ]);
    const pki = new OPCUACertificateManager({
      rootFolder: path.join(dir, 'watchdog-pki'),
      automaticallyAcceptUnknownCertificate: true,
    });
    await pki.initialize();
    const client = OPCUAClient.create({
      applicationName: 'demo-watchdog-test',
      securityMode: MessageSecurityMode.None,
      securityPolicy: SecurityPolicy.None,
      endpointMustExist: false,
      clientCertificateManager: pki,
      connectionStrategy: { maxRetry: 40, initialDelay: 250, maxDelay: 500 },
    });
    client.on('backoff', () => undefined);
    const beats: { value: number; at: number }[] = [];
    try {
      await waitFor(() => host.of('NBIRTH', 'demo').length > 0, 'the NBIRTH of the demo node', 40_000);
      await client.connect(`opc.tcp://127.0.0.1:${opcuaPort}`);
      const session = await client.createSession({ type: UserTokenType.Anonymous });
      const ns = ((await session.readNamespaceArray()) as string[]).indexOf('urn:cubestream');
      await waitFor(() => host.of('DBIRTH', 'demo').length > 0, 'the DBIRTH of cam0');
      const subscription = ClientSubscription.create(session, {
        requestedPublishingInterval: 100,
        requestedMaxKeepAliveCount: 10,
        publishingEnabled: true,
      });
      const item = ClientMonitoredItem.create(
        subscription,
        { nodeId: `ns=${ns};s=Cameras.cam0.Heartbeat`, attributeId: AttributeIds.Value },
        { samplingInterval: 100, queueSize: 10, discardOldest: true },
        TimestampsToReturn.Both,
      );
      item.on('changed', (value) => beats.push({ value: Number(value.value.value), at: Date.now() }));
      // A live inspection: the watchdog sees the counter move.
      await waitFor(() => new Set(beats.map((b) => b.value)).size >= 3, 'three heartbeat values', 20_000);
      const values = beats.map((b) => b.value);
      expect(values).toEqual([...values].sort((a, b) => a - b));

      proc.child.kill('SIGKILL');
      const killedAt = Date.now();
      expect((await proc.exited).signal).toBe('SIGKILL');
      // The broker publishes the will at once: the host learns the edge node is dead.
      await waitFor(() => host.of('NDEATH', 'demo').length > 0, 'the NDEATH will after kill -9', 10_000);
      // Three heartbeat periods later the counter has not moved: a watchdog alarms.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const after = beats.filter((b) => b.at > killedAt + 200);
      expect(after, JSON.stringify(after)).toEqual([]);
    } finally {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
      // A client reconnecting to a dead server may never settle its disconnect: do not wait on it.
      await Promise.race([
        client.disconnect().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 2_000)),
      ]);
      await host.close();
    }
  }, 90_000);
});
