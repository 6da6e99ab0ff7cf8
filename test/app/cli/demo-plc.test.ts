/**
 * `cubestream demo --opcua-port N --sparkplug` as a child process against a test mosquitto: the
 * demo's OPC UA server answers an anonymous client over security None on 127.0.0.1, its Sparkplug
 * edge node is born on the decisions' broker, and its belt's ejector sends eject commands.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OPCUACertificateManager } from 'node-opcua';
import { MessageSecurityMode, OPCUAClient, SecurityPolicy, UserTokenType } from 'node-opcua-client';
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
});
