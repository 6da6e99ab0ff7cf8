/**
 * The durable outbox against real brokers: decisions accepted while the broker is down survive
 * the sink (closed, or its process gone) and are delivered by the next one on the same directory.
 */
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseDecision } from '../../../../connectors/codec/decision-json.js';
import { SinkConnectTimeoutError } from '../../../../connectors/sinks/errors.js';
import { MqttDecisionSink } from '../../../../connectors/sinks/mqtt-sink.js';
import { NatsDecisionSink } from '../../../../connectors/sinks/nats-sink.js';
import {
  DurableDecisionSink,
  type OutboxSettings,
  outboxHooks,
  sinkJournal,
} from '../../../../connectors/sinks/outbox/durable-sink.js';
import { DecisionDeduper } from '../../../../connectors/sinks/outbox/subscriber-dedup.js';
import { decisionMsgId } from '../../../../connectors/sinks/topics.js';
import type { Decision } from '../../../../src/core/decision.js';
import { createMetrics } from '../../../../src/telemetry/metrics.js';
import {
  brokersInstalled,
  startMosquitto,
  startNatsServer,
  type TestBroker,
} from '../../../helpers/brokers.js';
import { makeDecision } from '../../../helpers/decision-fixture.js';
import { collect, waitFor } from '../../../helpers/mqtt-collector.js';
import { capturedLogger, tempDir } from './helpers.js';

const skip = !brokersInstalled && process.env.CI !== 'true';
if (skip) console.warn('durable outbox broker tests skipped: mosquitto or nats-server is not installed');

/** Decisions of two cameras, interleaved, with frame ids 1..count per camera. */
function twoCameras(count: number, firstFrame = 1): Decision[] {
  const out: Decision[] = [];
  for (let i = firstFrame; i < firstFrame + count; i++) {
    out.push(makeDecision({ cameraId: 'camA', frameId: i }), makeDecision({ cameraId: 'camB', frameId: i }));
  }
  return out;
}

function durableMqtt(broker: TestBroker, outbox: OutboxSettings, prefix: string) {
  const { logger, lines } = capturedLogger();
  const metrics = createMetrics({ defaultMetrics: false });
  const hooks = { logger, metrics };
  const journal = sinkJournal(outbox, 'mqtt', hooks);
  const inner = new MqttDecisionSink({
    ...outboxHooks(journal, hooks),
    url: broker.url,
    cameraIds: ['camA', 'camB'],
    prefix,
    modelVersion: 'm',
    reconnect: { initialMs: 100, maxMs: 300 },
    connectTimeoutMs: 1_000,
  });
  return { sink: new DurableDecisionSink(inner, journal, hooks), journal, lines, metrics };
}

describe.skipIf(skip)('durable outbox, MQTT (mosquitto)', () => {
  let broker: TestBroker;
  let tmp: { dir: string; dispose: () => Promise<void> };
  beforeEach(async () => {
    [broker, tmp] = await Promise.all([startMosquitto(), tempDir()]);
  });
  afterEach(async () => {
    await Promise.all([broker?.dispose(), tmp?.dispose()]);
  });

  it('delivers the decisions queued while the broker was down after the sink closed, each once, in per-camera order', async () => {
    await broker.stop('SIGTERM');
    const outbox = { dir: tmp.dir };
    const first = durableMqtt(broker, outbox, 'dur');
    await expect(first.sink.connect()).rejects.toThrow(SinkConnectTimeoutError);
    const offline = twoCameras(25);
    const outcomes = await Promise.all(offline.map((d) => first.sink.publish(d)));
    expect(outcomes.every((o) => o === 'queued')).toBe(true);
    await first.sink.close(); // the in-memory queue is dropped ("closed"); the outbox keeps it
    expect(first.lines.find((l) => String(l.msg).startsWith('decisions not delivered'))).toMatchObject({
      decisions: offline.length,
    });

    await broker.start();
    const sub = await collect(broker.url, ['dur/+/decisions']);
    const second = durableMqtt(broker, outbox, 'dur');
    await second.sink.connect();
    expect(second.lines.find((l) => l.msg === 'replaying decisions kept in the outbox')).toMatchObject({
      decisions: offline.length,
    });
    const online = twoCameras(5, 26);
    for (const d of online) await second.sink.publish(d);
    await second.sink.flush(15_000);
    const all = [...offline, ...online];
    const received = () => sub.messages.map((m) => parseDecision(m.payload));
    await waitFor(() => new Set(received().map(decisionMsgId)).size >= all.length, 'every decision');

    const firsts = new DecisionDeduper();
    const unique = received().filter((d) => firsts.firstTime(d));
    expect(unique.map(decisionMsgId).sort()).toEqual(all.map(decisionMsgId).sort());
    for (const camera of ['camA', 'camB']) {
      const frames = unique.filter((d) => d.cameraId === camera).map((d) => d.frameId);
      expect(frames, camera).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    }
    // Every delivery resolved its journal entry.
    expect(second.journal.pending).toBe(0);
    expect(await second.metrics.registry.metrics()).toContain(
      `cubestream_outbox_replayed_total{sink="mqtt"} ${offline.length}`,
    );
    await second.sink.close();
    await sub.close();
  });
});

describe.skipIf(skip)('durable outbox, NATS JetStream (nats-server -js)', () => {
  let server: TestBroker;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  let tmp: { dir: string; dispose: () => Promise<void> };
  beforeAll(async () => {
    [server, tmp] = await Promise.all([startNatsServer(), tempDir()]);
    admin = await connect({ servers: server.url });
    jsm = await jetstreamManager(admin);
  });
  afterAll(async () => {
    await admin?.close();
    await Promise.all([server?.dispose(), tmp?.dispose()]);
  });

  function natsSink(hooks = {}) {
    return new NatsDecisionSink({
      ...hooks,
      servers: server.url,
      subjectPrefix: 'durn',
      stream: { name: 'DURN', duplicateWindowMs: 300_000 },
      retry: { initialMs: 100, maxMs: 300 },
      logger: capturedLogger().logger,
    });
  }

  it('replays what a crashed run journaled; JetStream stores each decision once though it already had half', async () => {
    const decisions = twoCameras(10);
    // A run that died: it journaled every decision, and the broker had acked the first half, but
    // the acknowledgements never reached the journal.
    const crashed = sinkJournal({ dir: tmp.dir }, 'nats');
    crashed.open();
    for (const d of decisions) crashed.append(d);
    const direct = natsSink();
    await direct.connect();
    for (const d of decisions.slice(0, 10)) expect(await direct.publish(d)).toBe('acked');
    await direct.close();
    expect((await jsm.streams.info('DURN')).state.messages).toBe(10);

    const { logger } = capturedLogger();
    const hooks = { logger, metrics: createMetrics({ defaultMetrics: false }) };
    const journal = sinkJournal({ dir: tmp.dir }, 'nats', hooks);
    const sink = new DurableDecisionSink(natsSink(outboxHooks(journal, hooks)), journal, hooks);
    await sink.connect();
    await sink.flush(10_000);
    expect(journal.pending).toBe(0);
    const info = await jsm.streams.info('DURN');
    expect(info.state.messages).toBe(decisions.length);
    const ids: string[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const msg = await jsm.streams.getMessage('DURN', { seq });
      if (msg !== null) ids.push(msg.header.get('Nats-Msg-Id'));
    }
    expect(ids).toEqual(decisions.map(decisionMsgId));
    await sink.close();
  });
});
