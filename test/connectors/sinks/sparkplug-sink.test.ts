import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DroppedMessage } from '../../../connectors/sinks/sink.js';
import { DEVICE_METRICS, deviceAlias } from '../../../connectors/sinks/sparkplug/metrics.js';
import { SparkplugDecisionSink } from '../../../connectors/sinks/sparkplug/sparkplug-sink.js';
import type { Decision } from '../../../src/core/decision.js';
import { OptionError } from '../../../src/core/options.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { brokersInstalled, startMosquitto, type TestBroker } from '../../helpers/brokers.js';
import { makeDecision } from '../../helpers/decision-fixture.js';
import { waitFor } from '../../helpers/mqtt-collector.js';
import {
  type HostMessage,
  metricValue,
  type SparkplugHost,
  startSparkplugHost,
} from '../../helpers/sparkplug-host.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const logger = createLogger({ level: 'silent' });
const skip = !brokersInstalled && process.env.CI !== 'true';
if (skip) console.warn('sparkplug-sink tests skipped: /usr/sbin/mosquitto is not installed');

/** A logger whose lines (parsed JSON) the test can read. */
function captureLogger(): { logger: ReturnType<typeof createLogger>; messages: () => string[] } {
  const lines: string[] = [];
  const captured = createLogger({
    level: 'debug',
    destination: { write: (line: string) => lines.push(line) },
  });
  return {
    logger: captured,
    messages: () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg),
  };
}

/** What an edge node published (the host's own NCMDs left out), in order. */
function fromEdge(host: SparkplugHost, edge: string): HostMessage[] {
  return host.messages.filter((m) => m.edgeNodeId === edge && m.kind !== 'NCMD' && m.kind !== 'DCMD');
}

/** Every message of an edge node has seq = previous + 1 mod 256, except NBIRTH (0) and NDEATH (none). */
function expectSeqContinuity(messages: readonly HostMessage[]): void {
  let previous: number | undefined;
  for (const [i, m] of messages.entries()) {
    if (m.kind === 'NDEATH') {
      expect(m.seq, `NDEATH #${i} carries no seq`).toBeUndefined();
      previous = undefined;
      continue;
    }
    if (m.kind === 'NBIRTH') {
      expect(m.seq, `NBIRTH #${i}`).toBe(0);
    } else {
      expect(previous, `${m.kind} #${i} follows an NBIRTH`).toBeDefined();
      expect(m.seq, `${m.kind} #${i} (${m.topic})`).toBe(((previous ?? 0) + 1) % 256);
    }
    previous = m.seq;
  }
}

/** The DDATA metrics of a message by name, through the aliases of the device's DBIRTH. */
function named(
  message: HostMessage,
  birth: HostMessage,
): Map<string, { value: unknown; timestamp?: number }> {
  const byAlias = new Map(birth.metrics.map((m) => [m.alias, m]));
  const out = new Map<string, { value: unknown; timestamp?: number }>();
  for (const m of message.metrics) {
    const defined = byAlias.get(m.alias);
    expect(defined, `alias ${m.alias} of ${message.topic} is in the DBIRTH`).toBeDefined();
    expect(m.name).toBeUndefined();
    expect(m.type).toBe(defined?.type);
    out.set(defined?.name ?? '', {
      value: m.value,
      ...(m.timestamp === undefined ? {} : { timestamp: m.timestamp }),
    });
  }
  return out;
}

function spawnChild(url: string, group: string, edge: string, bdSeqFile: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/sparkplug-sink-child.ts', url, group, edge, bdSeqFile],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ready = async (): Promise<number> => {
    await waitFor(() => stdout.includes('"ready":true') || child.exitCode !== null, 'child ready', 15_000);
    expect(child.exitCode, stderr).toBeNull();
    return (JSON.parse(stdout.trim().split('\n')[0] ?? '{}') as { bdSeq: number }).bdSeq;
  };
  return { child, ready };
}

describe('Sparkplug sink options', () => {
  it('refuses a group id with a topic separator, naming the option and the rule', () => {
    expect(
      () => new SparkplugDecisionSink({ url: 'mqtt://x:1883', groupId: 'a/b', edgeNodeId: 'e', logger }),
    ).toThrow(OptionError);
    expect(
      () => new SparkplugDecisionSink({ url: 'mqtt://x:1883', groupId: 'g', edgeNodeId: 'e#', logger }),
    ).toThrow(
      /sparkplug sink option edgeNodeId = "e#": must be a non-empty UTF-8 string without "\+", "\/", "#"/,
    );
    expect(
      () =>
        new SparkplugDecisionSink({
          url: 'mqtt://x:1883',
          groupId: 'g',
          edgeNodeId: 'e',
          primaryHostId: '\ud800',
          logger,
        }),
    ).toThrow(/primaryHostId/);
    expect(
      () => new SparkplugDecisionSink({ url: 'not a url', groupId: 'g', edgeNodeId: 'e', logger }),
    ).toThrow(/url/);
    const unknown = {
      url: 'mqtt://x:1883',
      groupId: 'g',
      edgeNodeId: 'e',
      passwordFile: '/run/secret',
      logger,
    };
    expect(() => new SparkplugDecisionSink(unknown as never)).toThrow(/option passwordFile = "\(unknown\)"/);
  });

  it('gives every device metric an alias unique across devices', () => {
    const aliases = [0, 1, 63].flatMap((device) => DEVICE_METRICS.map((m) => deviceAlias(device, m.name)));
    expect(new Set(aliases).size).toBe(aliases.length);
  });
});

describe.skipIf(skip)('SparkplugDecisionSink against mosquitto, with a Tahu-decoding host', () => {
  let broker: TestBroker;
  const hosts: SparkplugHost[] = [];
  const sinks: SparkplugDecisionSink[] = [];
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    for (const sink of sinks) await sink.close();
    for (const host of hosts) await host.close();
    await broker?.dispose();
  });
  const host = async (group: string): Promise<SparkplugHost> => {
    const h = await startSparkplugHost(broker.url, group);
    hosts.push(h);
    return h;
  };

  it('sends NBIRTH, DBIRTHs, then a DDATA per decision: seq continuous over 1,000 decisions, aliases from the DBIRTH', async () => {
    const [group, edge] = ['g1', 'line1'];
    const h = await host(group);
    const delivered: Decision[] = [];
    const sink = new SparkplugDecisionSink({
      url: broker.url,
      groupId: group,
      edgeNodeId: edge,
      cameraIds: ['cam0', 'cam1'],
      modelVersion: 'm-1',
      logger,
      onDelivered: (d) => delivered.push(d),
    });
    sinks.push(sink);
    await sink.connect();
    expect(sink.connected).toBe(true);

    // cam2 is not configured: it appears at decision 500 and must be born before its DDATA.
    const decisions = Array.from({ length: 1000 }, (_, i) => {
      const frameId = i + 1;
      const cameras = frameId < 500 ? ['cam0', 'cam1'] : ['cam2', 'cam0', 'cam1'];
      return makeDecision({ cameraId: cameras[frameId % cameras.length], frameId, modelVersion: 'm-1' });
    });
    const outcomes = await Promise.all(decisions.map((d) => sink.publish(d)));
    expect(outcomes.every((o) => o === 'acked')).toBe(true);
    await sink.flush(5_000);
    expect(delivered).toHaveLength(1000);
    const ddataFrames = () => h.of('DDATA', edge).filter((m) => m.metrics.length > 1);
    await waitFor(() => ddataFrames().length === 1000, '1000 DDATA');
    // The heartbeat reaches every device too.
    await waitFor(
      () =>
        new Set(
          h
            .of('DDATA', edge)
            .filter((m) => m.metrics.length === 1)
            .map((m) => m.deviceId),
        ).size === 3,
      'a Heartbeat DDATA per device',
    );

    const messages = fromEdge(h, edge);
    expect(messages[0]).toMatchObject({ kind: 'NBIRTH', seq: 0 });
    const nbirth = messages[0];
    expect(nbirth?.metrics.find((m) => m.name === 'bdSeq')).toMatchObject({
      type: 'Int64',
      value: sink.bdSeq,
    });
    const rebirth = nbirth?.metrics.find((m) => m.name === 'Node Control/Rebirth');
    expect(rebirth).toMatchObject({ type: 'Boolean', value: false });
    expect(rebirth?.alias).toBeUndefined();
    expect(messages.slice(1, 3).map((m) => [m.kind, m.deviceId, m.seq])).toEqual([
      ['DBIRTH', 'cam0', 1],
      ['DBIRTH', 'cam1', 2],
    ]);
    expectSeqContinuity(messages);
    expect(messages.some((m, i) => i > 0 && m.seq === 0 && messages[i - 1]?.seq === 255)).toBe(true);

    const births = new Map(h.of('DBIRTH', edge).map((m) => [m.deviceId, m]));
    expect([...births.keys()].sort()).toEqual(['cam0', 'cam1', 'cam2']);
    const firstCam2 = messages.findIndex((m) => m.deviceId === 'cam2');
    expect(messages[firstCam2]?.kind).toBe('DBIRTH');
    const allAliases = [...births.values()].flatMap((b) => b.metrics.map((m) => m.alias));
    expect(new Set(allAliases).size).toBe(allAliases.length);
    for (const birth of births.values()) {
      expect(birth.metrics.map((m) => [m.name, m.type])).toEqual(DEVICE_METRICS.map((m) => [m.name, m.type]));
      expect(birth.metrics.every((m) => typeof m.timestamp === 'number')).toBe(true);
    }
    expect(metricValue(births.get('cam0'), 'ModelVersion')).toBe('m-1');
    expect(metricValue(births.get('cam0'), 'Status')).toBe('online');

    const byFrame = new Map(decisions.map((d) => [d.frameId, d]));
    for (const message of ddataFrames()) {
      const birth = births.get(message.deviceId ?? '');
      if (birth === undefined) throw new Error(`no DBIRTH for ${message.topic}`);
      const metrics = named(message, birth);
      const decision = byFrame.get(metrics.get('FrameId')?.value as number);
      expect(decision?.cameraId).toBe(message.deviceId);
      if (decision === undefined) continue;
      expect(Object.fromEntries([...metrics].map(([k, v]) => [k, v.value]))).toMatchObject({
        Anomalous: decision.anomalous,
        AnomalousPixels: decision.anomalousPixels,
        FrameId: decision.frameId,
        Threshold: decision.threshold,
        BlobCount: decision.blobs.length,
        MaxScore: decision.maxScore,
        LastDecisionTime: decision.decidedAt,
      });
      for (const m of metrics.values()) expect(m.timestamp).toBe(decision.capturedAt);
    }

    await sink.close();
    await waitFor(() => h.of('NDEATH', edge).length === 1, 'NDEATH on close');
    expect(metricValue(h.of('NDEATH', edge)[0], 'bdSeq')).toBe(sink.bdSeq);
    await expect(sink.publish(decisions[0]!)).rejects.toThrow(/closed/);
  });

  it('rebirths on NCMD Node Control/Rebirth = true: same bdSeq, seq from 0, current values', async () => {
    const [group, edge] = ['g2', 'line2'];
    const h = await host(group);
    const sink = new SparkplugDecisionSink({
      url: broker.url,
      groupId: group,
      edgeNodeId: edge,
      cameraIds: ['cam0'],
      heartbeatMs: 60_000,
      logger,
    });
    sinks.push(sink);
    await sink.connect();
    for (let frameId = 1; frameId <= 3; frameId += 1)
      await sink.publish(makeDecision({ cameraId: 'cam0', frameId }));
    await sink.publishStatus('cam0', { threshold: 0.9, state: 'offline' });
    await sink.publishEject('cam0', {
      frameId: 3,
      blobId: '3:0:0',
      valves: [4, 5, 6],
      fireAt: 1_700_000_000_500,
    });
    await waitFor(() => h.of('DDATA', edge).length === 5, '5 DDATA');
    const [status, eject] = h.of('DDATA', edge).slice(3);
    const birth0 = h.of('DBIRTH', edge)[0]!;
    expect(Object.fromEntries([...named(status!, birth0)].map(([k, v]) => [k, v.value]))).toEqual({
      Threshold: 0.9,
      Status: 'offline',
    });
    expect(Object.fromEntries([...named(eject!, birth0)].map(([k, v]) => [k, v.value]))).toEqual({
      'Eject/FrameId': 3,
      'Eject/BlobId': '3:0:0',
      'Eject/Valves': '4,5,6',
      'Eject/FireAt': 1_700_000_000_500,
      'Eject/Count': 1,
    });

    await h.requestRebirth(edge);
    await waitFor(() => h.of('DBIRTH', edge).length === 2, 'second DBIRTH');
    await sink.publish(makeDecision({ cameraId: 'cam0', frameId: 4 }));
    await waitFor(() => h.of('DDATA', edge).length === 6, 'DDATA after the rebirth');

    const messages = fromEdge(h, edge);
    expect(messages.map((m) => m.kind)).toEqual([
      'NBIRTH',
      'DBIRTH',
      ...Array(5).fill('DDATA'),
      'NBIRTH',
      'DBIRTH',
      'DDATA',
    ]);
    expectSeqContinuity(messages);
    const [first, second] = h.of('NBIRTH', edge);
    expect(metricValue(second, 'bdSeq')).toBe(metricValue(first, 'bdSeq'));
    const rebirthDbirth = h.of('DBIRTH', edge)[1];
    expect(metricValue(rebirthDbirth, 'FrameId')).toBe(3);
    expect(metricValue(rebirthDbirth, 'Threshold')).toBe(0.9);
    expect(metricValue(rebirthDbirth, 'Status')).toBe('offline');
    expect(metricValue(rebirthDbirth, 'Eject/Valves')).toBe('4,5,6');
  });

  it('waits for the primary host STATE online before NBIRTH, and dies (NDEATH) while it is offline', async () => {
    const [group, edge, hostId] = ['g3', 'line3', 'scada3'];
    const h = await host(group);
    const logs = captureLogger();
    const drops: DroppedMessage[] = [];
    const sink = new SparkplugDecisionSink({
      url: broker.url,
      groupId: group,
      edgeNodeId: edge,
      primaryHostId: hostId,
      cameraIds: ['cam0'],
      connectTimeoutMs: 0,
      heartbeatMs: 60_000,
      logger: logs.logger,
      onDrop: (d) => drops.push(d),
    });
    sinks.push(sink);
    await sink.connect();
    await waitFor(
      () => logs.messages().includes('waiting for the primary host STATE online before NBIRTH'),
      'subscribed, waiting for the host',
    );
    expect(h.of('NBIRTH', edge)).toHaveLength(0);
    expect(sink.connected).toBe(false);
    expect(await sink.publish(makeDecision({ cameraId: 'cam0', frameId: 7 }))).toBe('dropped');
    expect(drops).toMatchObject([{ sink: 'sparkplug', reason: 'closed', decision: { frameId: 7 } }]);
    expect(h.of('NBIRTH', edge)).toHaveLength(0);

    const t0 = Date.now();
    await h.publishState(hostId, true, t0);
    await waitFor(() => h.of('DBIRTH', edge).length === 1, 'NBIRTH + DBIRTH once the host is online');
    expect(metricValue(h.of('DBIRTH', edge)[0], 'FrameId')).toBe(7); // state carried, not the stale DDATA
    expect(await sink.publish(makeDecision({ cameraId: 'cam0', frameId: 8 }))).toBe('acked');

    await h.publishState(hostId, false, t0 + 1);
    await waitFor(() => h.of('NDEATH', edge).length === 1, 'NDEATH when the host goes offline');
    expect(metricValue(h.of('NDEATH', edge)[0], 'bdSeq')).toBe(sink.bdSeq);
    await waitFor(() => !sink.connected, 'not born');
    expect(await sink.publish(makeDecision({ cameraId: 'cam0', frameId: 9 }))).toBe('dropped');

    // A STATE older than the last one seen is ignored.
    await h.publishState(hostId, true, t0 - 1_000);
    await waitFor(() => logs.messages().includes('stale primary host STATE ignored'), 'stale STATE ignored');
    expect(h.of('NBIRTH', edge)).toHaveLength(1);
    await h.publishState(hostId, true, t0 + 2);
    await waitFor(() => h.of('NBIRTH', edge).length === 2, 'NBIRTH when the host is back');
    expect(metricValue(h.of('NBIRTH', edge)[1], 'bdSeq')).toBe(metricValue(h.of('NBIRTH', edge)[0], 'bdSeq'));
    expect(metricValue(h.of('DBIRTH', edge)[1], 'FrameId')).toBe(9);
    expectSeqContinuity(fromEdge(h, edge));
    expect(sink.dropped.droppedNotBorn).toBe(2);
  });

  it('has the broker publish NDEATH with the session bdSeq when the process is killed -9; bdSeq persists', async () => {
    const [group, edge] = ['g4', 'line4'];
    const h = await host(group);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-sparkplug-'));
    const bdSeqFile = path.join(dir, 'bdseq');
    const children: ChildProcess[] = [];
    try {
      for (const expected of [0, 1]) {
        const { child, ready } = spawnChild(broker.url, group, edge, bdSeqFile);
        children.push(child);
        expect(await ready()).toBe(expected);
        await waitFor(() => h.of('NBIRTH', edge).length === expected + 1, 'NBIRTH of the child');
        expect(metricValue(h.of('NBIRTH', edge)[expected], 'bdSeq')).toBe(expected);
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
        await waitFor(() => h.of('NDEATH', edge).length === expected + 1, 'NDEATH will after kill -9');
        const death = h.of('NDEATH', edge)[expected];
        expect(death?.metrics).toMatchObject([{ name: 'bdSeq', type: 'Int64', value: expected }]);
        expect(death?.seq).toBeUndefined();
      }
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes the next bdSeq on every new CONNECT: its will carries it, births repeat it', async () => {
    const [group, edge, clientId] = ['g5', 'line5', 'spb-test-5'];
    const drops: DroppedMessage[] = [];
    const sink = new SparkplugDecisionSink({
      url: broker.url,
      groupId: group,
      edgeNodeId: edge,
      clientId,
      cameraIds: ['cam0'],
      heartbeatMs: 60_000,
      reconnect: { initialMs: 50, maxMs: 200 },
      logger,
      onDrop: (d) => drops.push(d),
    });
    sinks.push(sink);
    await sink.connect();
    const b0 = sink.bdSeq;
    expect(await sink.publish(makeDecision({ cameraId: 'cam0', frameId: 1 }))).toBe('acked');

    // The broker dies: no will; decisions meanwhile are dropped, not queued.
    await broker.stop('SIGKILL');
    await waitFor(() => !sink.connected, 'connection lost');
    expect(await sink.publish(makeDecision({ cameraId: 'cam0', frameId: 2 }))).toBe('dropped');
    expect(drops.at(-1)).toMatchObject({ reason: 'closed', decision: { frameId: 2 } });
    await broker.start();
    await waitFor(() => sink.connected, 'reborn after the broker restart', 15_000);
    const b1 = sink.bdSeq;
    expect(b1).not.toBe(b0);
    expect((b1 - b0 + 256) % 256).toBeGreaterThanOrEqual(1);

    const h = await host(group);
    await h.requestRebirth(edge); // the host joined late: it asks for the births
    await waitFor(() => h.of('DBIRTH', edge).length === 1, 'births for the late host');
    expect(metricValue(h.of('NBIRTH', edge)[0], 'bdSeq')).toBe(b1);
    expect(metricValue(h.of('DBIRTH', edge)[0], 'FrameId')).toBe(2);

    // Force a socket drop: a client taking over the client id makes the broker publish the will.
    const intruder = await mqtt.connectAsync(broker.url, {
      clientId,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    intruder.on('error', () => undefined);
    await waitFor(() => h.of('NDEATH', edge).length === 1, 'NDEATH will of the dropped session');
    expect(metricValue(h.of('NDEATH', edge)[0], 'bdSeq')).toBe(b1);
    await waitFor(() => h.of('NBIRTH', edge).length === 2, 'NBIRTH after the reconnect');
    const b2 = metricValue(h.of('NBIRTH', edge)[1], 'bdSeq');
    expect(b2).toBe((b1 + 1) % 256);
    expect(sink.bdSeq).toBe(b2);
    await intruder.endAsync(true);
    expectSeqContinuity(fromEdge(h, edge));

    await sink.close();
    await waitFor(() => h.of('NDEATH', edge).length === 2, 'NDEATH on close');
    expect(metricValue(h.of('NDEATH', edge)[1], 'bdSeq')).toBe(b2);
  });
});
