import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseDecision } from '../../../connectors/codec/decision-json.js';
import { StreamConfigError } from '../../../connectors/sinks/errors.js';
import { NatsDecisionSink } from '../../../connectors/sinks/nats-sink.js';
import type { DroppedMessage, PublishOutcome } from '../../../connectors/sinks/sink.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { brokersInstalled, startNatsServer, type TestBroker } from '../../helpers/brokers.js';
import { makeDecision, makeDecisions } from '../../helpers/decision-fixture.js';
import { waitFor } from '../../helpers/mqtt-collector.js';

const logger = createLogger({ level: 'silent' });
const skip = !brokersInstalled && process.env.CI !== 'true';
if (skip) console.warn('nats-sink tests skipped: /usr/sbin/nats-server is not installed');

interface StoredDecision {
  msgId: string | undefined;
  subject: string;
  frameId: number;
}

/** Reads every message of a stream, in sequence order. */
async function storedDecisions(jsm: JetStreamManager, stream: string): Promise<StoredDecision[]> {
  const info = await jsm.streams.info(stream);
  const out: StoredDecision[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq });
    if (msg === null) continue;
    out.push({
      msgId: msg.header.get('Nats-Msg-Id'),
      subject: msg.subject,
      frameId: parseDecision(msg.data).frameId,
    });
  }
  return out;
}

describe.skipIf(skip)('NatsDecisionSink against nats-server -js', () => {
  let server: TestBroker;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    server = await startNatsServer();
    admin = await connect({ servers: server.url });
    jsm = await jetstreamManager(admin);
  });
  afterAll(async () => {
    await admin?.close();
    await server?.dispose();
  });

  it('creates the stream, stores each decision with its Nats-Msg-Id, and stores a repeated msgID once', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const sink = new NatsDecisionSink({
      servers: server.url,
      stream: { name: 'DEC_A', duplicateWindowMs: 60_000, maxAgeMs: 3_600_000 },
      subjectPrefix: 'a',
      metrics,
      logger,
    });
    await sink.connect();
    expect(sink.connected).toBe(true);
    expect(await metrics.registry.metrics()).toContain('cubestream_broker_connected{sink="nats"} 1');
    const info = await jsm.streams.info('DEC_A');
    expect(info.config.subjects).toEqual(['a.decisions.>']);
    expect(info.config.duplicate_window).toBe(nanos(60_000));
    expect(info.config.max_age).toBe(nanos(3_600_000));

    const decisions = [...makeDecisions(8), makeDecision({ cameraId: 'cam2', frameId: 1, rowOffset: 540 })];
    expect(await Promise.all(decisions.map((d) => sink.publish(d)))).toEqual(Array(9).fill('acked'));
    // Same decision again (a retry after a lost ack, a replay): acknowledged, not stored again.
    expect(await sink.publish(decisions[0]!)).toBe('acked');
    expect(await sink.publish(decisions[8]!)).toBe('acked');

    const stored = await storedDecisions(jsm, 'DEC_A');
    expect(stored).toHaveLength(9);
    const at = (i: number) => decisions[i]?.capturedAt;
    expect(stored[0]).toEqual({ msgId: `cam1:${at(0)}:1:0`, subject: 'a.decisions.cam1', frameId: 1 });
    expect(stored[8]).toEqual({ msgId: `cam2:${at(8)}:1:540`, subject: 'a.decisions.cam2', frameId: 1 });
    await sink.close();
    expect(sink.connected).toBe(false);
    expect(await metrics.registry.metrics()).toContain('cubestream_broker_connected{sink="nats"} 0');
  });

  it('accepts an existing stream that covers the subjects, and refuses one that does not', async () => {
    await jsm.streams.add({ name: 'WIDE', subjects: ['b.>'] });
    const ok = new NatsDecisionSink({
      servers: server.url,
      subjectPrefix: 'b',
      stream: { name: 'WIDE' },
      logger,
    });
    await ok.connect();
    expect(await ok.publish(makeDecision())).toBe('acked');
    await ok.close();

    await jsm.streams.add({ name: 'OTHER', subjects: ['c.other.>'] });
    const bad = new NatsDecisionSink({
      servers: server.url,
      subjectPrefix: 'c',
      stream: { name: 'OTHER' },
      logger,
    });
    const error = await bad.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamConfigError);
    expect(String(error)).toMatch(
      /stream "OTHER": exists with subjects \["c\.other\.>"\], which do not cover c\.decisions\.>/,
    );
    await expect(bad.publish(makeDecision())).rejects.toBeInstanceOf(StreamConfigError);
    await bad.close();

    const missing = new NatsDecisionSink({
      servers: server.url,
      subjectPrefix: 'd',
      stream: { name: 'NOPE', create: false },
      logger,
    });
    await expect(missing.connect()).rejects.toThrow(/"NOPE": does not exist and stream.create is false/);
    await missing.close();
  });

  it('publishes plain core NATS messages in core mode (no stream), and dead letters', async () => {
    const sub = admin.subscribe('e.>');
    const received: { subject: string; data: string }[] = [];
    void (async () => {
      for await (const m of sub) received.push({ subject: m.subject, data: m.string() });
    })();
    await admin.flush();
    const sink = new NatsDecisionSink({ servers: server.url, mode: 'core', subjectPrefix: 'e', logger });
    await sink.connect();
    const decisions = makeDecisions(5);
    expect(await Promise.all(decisions.map((d) => sink.publish(d)))).toEqual(Array(5).fill('acked'));
    expect(await sink.publishDeadLetter({ reason: 'shape', message: 'bad', cameraId: 'cam1', at: 1 })).toBe(
      'acked',
    );
    await waitFor(() => received.length === 6, 'six core messages', 5_000);
    expect(received.slice(0, 5).map((m) => parseDecision(m.data))).toEqual(decisions);
    expect(received.slice(0, 5).every((m) => m.subject === 'e.decisions.cam1')).toBe(true);
    expect(received[5]).toMatchObject({ subject: 'e.deadletter.cam1' });
    expect(JSON.parse(received[5]?.data ?? '')).toMatchObject({
      schema: 'cubestream.deadletter/1',
      reason: 'shape',
    });
    const names: string[] = [];
    for await (const name of jsm.streams.names('e.decisions.cam1')) names.push(name);
    expect(names).toEqual([]);
    sub.unsubscribe();
    await sink.close();
  });
});

describe.skipIf(skip)('NatsDecisionSink across server restarts (same port, JetStream store kept)', () => {
  let server: TestBroker;
  beforeEach(async () => {
    server = await startNatsServer();
  });
  afterEach(async () => {
    await server?.dispose();
  });

  it('stores all N decisions exactly once when the server is killed -9 and restarted mid-stream', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const sink = new NatsDecisionSink({
      servers: server.url,
      stream: { name: 'DEC_R', duplicateWindowMs: 120_000 },
      reconnectTimeWaitMs: 100,
      publishTimeoutMs: 1_000,
      retry: { initialMs: 100, maxMs: 500 },
      metrics,
      logger,
    });
    await sink.connect();
    const N = 90;
    const decisions = makeDecisions(N);
    const outcomes: Promise<PublishOutcome>[] = [];
    for (const d of decisions.slice(0, 30)) outcomes.push(sink.publish(d));
    await server.stop('SIGKILL');
    for (const d of decisions.slice(30, 45)) outcomes.push(sink.publish(d));
    await waitFor(() => !sink.connected, 'sink to notice the outage');
    for (const d of decisions.slice(45, 60)) outcomes.push(sink.publish(d));
    await server.start();
    for (const d of decisions.slice(60)) outcomes.push(sink.publish(d));

    await sink.flush(15_000);
    const settled = await Promise.all(outcomes);
    expect(settled.filter((o) => o === 'queued').length).toBeGreaterThanOrEqual(15);
    expect(settled).not.toContain('dropped');

    const admin = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(admin);
      const stored = await storedDecisions(jsm, 'DEC_R');
      const ids = stored.map((s) => s.frameId).sort((a, b) => a - b);
      expect(ids).toEqual(decisions.map((d) => d.frameId));
      expect(new Set(stored.map((s) => s.msgId)).size).toBe(N);
    } finally {
      await admin.close();
    }
    await sink.close();
  });

  it('starts while the server is down: connect() times out, decisions queue, and are stored once it is up', async () => {
    await server.stop('SIGKILL');
    const sink = new NatsDecisionSink({
      servers: server.url,
      stream: { name: 'DEC_L' },
      reconnectTimeWaitMs: 100,
      connectTimeoutMs: 300,
      logger,
    });
    await expect(sink.connect()).rejects.toThrow(/no connection to nats:\/\/127\.0\.0\.1:\d+ within 300 ms/);
    const outcomes = await Promise.all(makeDecisions(4).map((d) => sink.publish(d)));
    expect(outcomes).toEqual(Array(4).fill('queued'));
    await server.start();
    await sink.flush(10_000);
    expect(sink.connected).toBe(true);
    const admin = await connect({ servers: server.url });
    const info = await (await jetstreamManager(admin)).streams.info('DEC_L');
    expect(info.state.messages).toBe(4);
    await admin.close();
    await sink.close();
  });

  it('counts offline-queue overflow while the server is down', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const drops: DroppedMessage[] = [];
    const sink = new NatsDecisionSink({
      servers: server.url,
      stream: { name: 'DEC_O' },
      offlineQueueSize: 3,
      reconnectTimeWaitMs: 100,
      metrics,
      logger,
      onDrop: (d) => drops.push(d),
    });
    await sink.connect();
    await server.stop('SIGKILL');
    await waitFor(() => !sink.connected, 'sink to notice the outage');
    const outcomes = await Promise.all(makeDecisions(5).map((d) => sink.publish(d)));
    expect(outcomes).toEqual(Array(5).fill('queued'));
    expect(drops.map((d) => [d.reason, d.decision?.frameId])).toEqual([
      ['overflow', 1],
      ['overflow', 2],
    ]);
    expect(await metrics.registry.metrics()).toContain('cubestream_publish_errors_total{sink="nats"} 2');
    await server.start();
    await sink.flush(10_000);
    const admin = await connect({ servers: server.url });
    const info = await (await jetstreamManager(admin)).streams.info('DEC_O');
    expect(info.state.messages).toBe(3);
    await admin.close();
    await sink.close();
  });
});
