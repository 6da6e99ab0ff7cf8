/**
 * The durable outbox end to end: `cubestream run` with MQTT and JetStream sinks and
 * `sinks.outbox.dir`; the brokers go away, the service decides on, then is killed with SIGKILL.
 * Brokers back, a second run on the same outbox re-sends what the first left, then decides its
 * own blocks: every decision arrives, exactly once after de-duplication by `decisionMsgId`, and in
 * per-camera order.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDecision } from '../../connectors/codec/decision-json.js';
import { listSegments, readSegment } from '../../connectors/sinks/outbox/segments.js';
import { DecisionDeduper } from '../../connectors/sinks/outbox/subscriber-dedup.js';
import { decisionMsgId } from '../../connectors/sinks/topics.js';
import type { Decision } from '../../src/core/decision.js';
import { parsePromText, promValue } from '../app/service/prom-text.js';
import {
  brokersInstalled,
  freePort,
  startMosquitto,
  startNatsServer,
  type TestBroker,
} from '../helpers/brokers.js';
import { type Collector, collect, waitFor } from '../helpers/mqtt-collector.js';
import { spawnCli, type TempRun, tempRun } from './cli-process.js';

const skip = !brokersInstalled && process.env.CI !== 'true';
if (skip) console.warn('outbox e2e test skipped: mosquitto or nats-server is not installed');

const PREFIX = 'e2eob';
const STREAM = 'E2EOB';

/** Decisions journaled in `<outbox>/<sink>/` (resolved or not), and the ids of those still pending. */
function journaled(outbox: string, sink: string): { all: Set<string>; pending: Set<string> } {
  const all = new Set<string>();
  const bySeq = new Map<number, string>();
  const dir = join(outbox, sink);
  for (const file of existsSync(dir) ? listSegments(dir) : []) {
    for (const { record } of readSegment(file.path).records) {
      if (record.kind === 'decision') {
        all.add(decisionMsgId(record.decision));
        bySeq.set(record.seq, decisionMsgId(record.decision));
      } else bySeq.delete(record.seq);
    }
  }
  return { all, pending: new Set(bySeq.values()) };
}

/** The first copy of each decision, in arrival order. */
function firstCopies(decisions: readonly Decision[]): Decision[] {
  const seen = new DecisionDeduper();
  return decisions.filter((d) => seen.firstTime(d));
}

/** True when each camera's decisions come in capture order. */
function inCameraOrder(decisions: readonly Decision[]): boolean {
  const last = new Map<string, Decision>();
  for (const d of decisions) {
    const previous = last.get(d.cameraId);
    if (
      previous !== undefined &&
      (d.capturedAt < previous.capturedAt ||
        (d.capturedAt === previous.capturedAt && d.frameId <= previous.frameId))
    )
      return false;
    last.set(d.cameraId, d);
  }
  return true;
}

describe.skipIf(skip)('durable outbox: cubestream run killed with SIGKILL while its brokers are down', () => {
  let mosquitto: TestBroker;
  let nats: TestBroker;
  let tmp: TempRun;
  let sub: Collector;
  beforeAll(async () => {
    [mosquitto, nats, tmp] = await Promise.all([startMosquitto(), startNatsServer(), tempRun()]);
    // A persistent session: mosquitto keeps what arrives while the subscriber is away.
    sub = await collect(mosquitto.url, [`${PREFIX}/+/decisions`], {
      clientId: 'e2e-outbox-sub',
      clean: false,
      properties: { sessionExpiryInterval: 600 },
    });
  });
  afterAll(async () => {
    await sub?.close();
    await Promise.all([mosquitto?.dispose(), nats?.dispose(), tmp?.dispose()]);
  });

  async function withJsm<T>(use: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
    const nc: NatsConnection = await connect({ servers: nats.url });
    try {
      return await use(await jetstreamManager(nc));
    } finally {
      await nc.close();
    }
  }

  async function streamDecisions(stream = STREAM): Promise<{ msgId: string; decision: Decision }[]> {
    return withJsm(async (jsm) => {
      const info = await jsm.streams.info(stream);
      const out: { msgId: string; decision: Decision }[] = [];
      for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
        const msg = await jsm.streams.getMessage(stream, { seq });
        if (msg !== null)
          out.push({ msgId: msg.header.get('Nats-Msg-Id'), decision: parseDecision(msg.data) });
      }
      return out;
    });
  }

  function config(
    outbox: string,
    source: Record<string, unknown>,
    options: { metricsPort?: number; prefix?: string; stream?: string; deadlineMs?: number } = {},
  ): Record<string, unknown> {
    const prefix = options.prefix ?? PREFIX;
    return {
      source: { kind: 'simulated', cameraId: 'cam0', width: 32, blockRows: 8, seed: 5, ...source },
      model: { path: 'models/demo' },
      pipeline: { backpressure: { capacity: 64 } },
      sinks: {
        mqtt: {
          url: mosquitto.url,
          topicPrefix: prefix,
          reconnect: { initialMs: 100, maxMs: 400 },
          connectTimeoutMs: 2_000,
        },
        nats: {
          servers: nats.url,
          subjectPrefix: prefix,
          stream: { name: options.stream ?? STREAM, duplicateWindowMs: 600_000 },
          reconnectTimeWaitMs: 200,
          retry: { initialMs: 100, maxMs: 400 },
          publishTimeoutMs: 1_000,
          connectTimeoutMs: 2_000,
        },
        outbox: { dir: outbox },
      },
      metrics: { port: options.metricsPort ?? 0, host: '127.0.0.1' },
      viewer: { enabled: false },
      log: { level: 'info' },
      shutdown: { deadlineMs: options.deadlineMs ?? 10_000 },
    };
  }

  const received = (): Decision[] => sub.messages.map((m) => parseDecision(m.payload));

  it('re-sends after the restart what the killed run had not delivered: each decision once, in order', async () => {
    const outbox = join(tmp.dir, 'outbox');
    const metricsPort = await freePort();
    const first = spawnCli([
      'run',
      '--config',
      await tmp.writeConfig('first', config(outbox, { linesPerSecond: 80 }, { metricsPort })),
    ]);
    await waitFor(() => received().length >= 3, 'three decisions before the outage', 30_000);

    await Promise.all([mosquitto.stop('SIGTERM'), nats.stop('SIGTERM')]);
    await first.waitForLog((l) => l.msg === 'mqtt connection lost', 'the MQTT sink to notice');
    await first.waitForLog((l) => l.msg === 'nats connection lost', 'the NATS sink to notice');
    // Decisions go on while the brokers are away: journaled, queued in memory.
    const before = journaled(outbox, 'mqtt').pending.size;
    await waitFor(
      () =>
        journaled(outbox, 'mqtt').pending.size >= before + 8 && journaled(outbox, 'nats').pending.size >= 8,
      'eight more decisions in the outbox',
      20_000,
    );
    const samples = parsePromText(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    expect(promValue(samples, 'cubestream_outbox_pending', { sink: 'mqtt' })).toBeGreaterThanOrEqual(8);
    expect(promValue(samples, 'cubestream_outbox_pending', { sink: 'nats' })).toBeGreaterThanOrEqual(8);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const mqttJournal = journaled(outbox, 'mqtt');
    const natsJournal = journaled(outbox, 'nats');
    expect(mqttJournal.pending.size).toBeGreaterThanOrEqual(8);
    await Promise.all([mosquitto.start(), nats.start()]);

    const N = 6;
    const second = spawnCli([
      'run',
      '--config',
      await tmp.writeConfig('second', config(outbox, { maxBlocks: N })),
    ]);
    const { code } = await second.exited;
    expect(code, second.stderr()).toBe(0);
    const replayed = (sink: string) =>
      second.logs.find((l) => l.msg === 'replaying decisions kept in the outbox' && l.sink === sink)
        ?.decisions;
    expect(replayed('mqtt')).toBe(mqttJournal.pending.size);
    expect(replayed('nats')).toBe(natsJournal.pending.size);
    expect(second.logs.find((l) => l.msg === 'service stopped')).toMatchObject({ code: 0, decisions: N });
    expect(second.logs.some((l) => String(l.msg).startsWith('decisions not delivered'))).toBe(false);
    // Everything was acknowledged: nothing left to replay.
    expect(journaled(outbox, 'mqtt').pending.size).toBe(0);
    expect(journaled(outbox, 'nats').pending.size).toBe(0);

    // MQTT: every decision of the first run (all journaled) and the N of the second, once each.
    const expectedMqtt = mqttJournal.all.size + N;
    await waitFor(
      () => new Set(received().map(decisionMsgId)).size >= expectedMqtt,
      `${expectedMqtt} distinct decisions on MQTT`,
      20_000,
    );
    const viaMqtt = firstCopies(received());
    expect(viaMqtt).toHaveLength(expectedMqtt);
    const mqttIds = new Set(viaMqtt.map(decisionMsgId));
    for (const id of mqttJournal.all) expect(mqttIds.has(id), id).toBe(true);
    expect(inCameraOrder(viaMqtt)).toBe(true);

    // JetStream: one stored message per decision (Nats-Msg-Id dedup of what it already had).
    const inStream = await streamDecisions();
    expect(inStream).toHaveLength(natsJournal.all.size + N);
    expect(new Set(inStream.map((s) => s.msgId)).size).toBe(inStream.length);
    expect(inStream.every((s) => s.msgId === decisionMsgId(s.decision))).toBe(true);
    const streamIds = new Set(inStream.map((s) => s.msgId));
    for (const id of natsJournal.all) expect(streamIds.has(id), id).toBe(true);
    expect(inCameraOrder(inStream.map((s) => s.decision))).toBe(true);
    console.info(
      `outbox crash: first run journaled ${mqttJournal.all.size} decisions (${mqttJournal.pending.size} undelivered ` +
        `to MQTT, ${natsJournal.pending.size} to JetStream) and was killed; the second run re-sent them ` +
        `and decided ${N}: MQTT ${received().length} messages, ${viaMqtt.length} distinct; JetStream ${inStream.length} stored`,
    );
  });
  it('a clean stop with the brokers down exits within its deadline (code 1) and keeps what was not delivered', async () => {
    const outbox = join(tmp.dir, 'outbox-stop');
    const prefix = 'e2eoc';
    const stream = 'E2EOC';
    await Promise.all([mosquitto.stop('SIGTERM'), nats.stop('SIGTERM')]);
    const M = 5;
    const first = spawnCli([
      'run',
      '--config',
      await tmp.writeConfig(
        'stop-first',
        config(outbox, { maxBlocks: M }, { prefix, stream, deadlineMs: 3_000 }),
      ),
    ]);
    const { code: firstCode } = await first.exited;
    // The flush timed out (brokers down): exit 1, as without the outbox; but nothing is lost.
    expect(firstCode, first.stderr()).toBe(1);
    expect(first.logs.find((l) => l.msg === 'service stopped')).toMatchObject({ code: 1, decisions: M });
    for (const sink of ['mqtt', 'nats']) {
      expect(
        first.logs.find((l) => l.sink === sink && String(l.msg).startsWith('decisions not delivered')),
        sink,
      ).toMatchObject({ decisions: M });
      expect(journaled(outbox, sink).pending.size, sink).toBe(M);
    }

    await Promise.all([mosquitto.start(), nats.start()]);
    const late = await collect(mosquitto.url, [`${prefix}/+/decisions`]);
    const N = 2;
    const second = spawnCli([
      'run',
      '--config',
      await tmp.writeConfig('stop-second', config(outbox, { maxBlocks: N }, { prefix, stream })),
    ]);
    const { code } = await second.exited;
    expect(code, second.stderr()).toBe(0);
    await waitFor(() => new Set(late.messages.map((m) => m.payload)).size >= M + N, `${M + N} decisions`);
    const viaMqtt = firstCopies(late.messages.map((m) => parseDecision(m.payload)));
    expect(viaMqtt).toHaveLength(M + N);
    expect(inCameraOrder(viaMqtt)).toBe(true);
    const inStream = await streamDecisions(stream);
    expect(inStream).toHaveLength(M + N);
    expect(inCameraOrder(inStream.map((s) => s.decision))).toBe(true);
    await late.close();
  });
});
