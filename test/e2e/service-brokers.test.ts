/**
 * `cubestream run` as a child process against real brokers started here (mosquitto, nats-server
 * -js) on free ports: decisions per block, broker restarts, kill -9 and SIGTERM.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDecision } from '../../connectors/codec/decision-json.js';
import { decisionMsgId } from '../../connectors/sinks/topics.js';
import type { Decision } from '../../src/core/decision.js';
import { METRIC_NAMES, METRIC_PREFIX } from '../../src/telemetry/metrics.js';
import { parsePromText, promFamilies, promValue } from '../app/service/prom-text.js';
import {
  brokersInstalled,
  freePort,
  startMosquitto,
  startNatsServer,
  type TestBroker,
} from '../helpers/brokers.js';
import { type Collector, collect, waitFor } from '../helpers/mqtt-collector.js';
import { type CliProcess, type LogLine, spawnCli, type TempRun, tempRun } from './cli-process.js';

const skip = !brokersInstalled && process.env.CI !== 'true';
if (skip) console.warn('service e2e tests skipped: mosquitto or nats-server is not installed');

/** The run config of a test: a 32-px simulated camera (blocks of 8 lines) -> demo model -> MQTT, NATS, file. */
function runConfig(options: {
  prefix: string;
  mqtt: string;
  nats: string;
  source: Record<string, unknown>;
  metricsPort?: number;
  file?: string;
}): Record<string, unknown> {
  return {
    source: {
      kind: 'simulated',
      cameraId: 'cam0',
      width: 32,
      blockRows: 8,
      seed: 5,
      anomalyRate: 0.1,
      ...options.source,
    },
    model: { path: 'models/demo' },
    pipeline: { backpressure: { capacity: 64 } },
    sinks: {
      mqtt: {
        url: options.mqtt,
        topicPrefix: options.prefix,
        reconnect: { initialMs: 100, maxMs: 400 },
        connectTimeoutMs: 5_000,
      },
      nats: {
        servers: options.nats,
        subjectPrefix: options.prefix,
        stream: { name: options.prefix.toUpperCase() },
        reconnectTimeWaitMs: 200,
        retry: { initialMs: 100, maxMs: 400 },
        publishTimeoutMs: 1_000,
        connectTimeoutMs: 5_000,
      },
      ...(options.file === undefined ? {} : { file: { path: options.file } }),
    },
    metrics: { port: options.metricsPort ?? 0, host: '127.0.0.1' },
    viewer: { enabled: false },
    log: { level: 'info' },
    shutdown: { deadlineMs: 20_000 },
  };
}

/** Decisions received on `<prefix>/cam0/decisions`, schema-checked. */
function decisionsOf(sub: Collector, prefix: string): Decision[] {
  return sub.messages
    .filter((m) => m.topic === `${prefix}/cam0/decisions`)
    .map((m) => parseDecision(m.payload));
}

function keyOf(d: Pick<Decision, 'cameraId' | 'frameId' | 'rowOffset'>): string {
  return `${d.cameraId}:${d.frameId}:${d.rowOffset}`;
}

/** Every decision stored in a JetStream stream, with its Nats-Msg-Id. */
async function stored(
  jsm: JetStreamManager,
  stream: string,
): Promise<{ msgId: string | undefined; decision: Decision }[]> {
  const info = await jsm.streams.info(stream);
  const out: { msgId: string | undefined; decision: Decision }[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq });
    if (msg !== null) out.push({ msgId: msg.header.get('Nats-Msg-Id'), decision: parseDecision(msg.data) });
  }
  return out;
}

function stoppedLine(proc: CliProcess): LogLine | undefined {
  return proc.logs.find((l) => l.msg === 'service stopped');
}

describe.skipIf(skip)('cubestream run against mosquitto and nats-server -js', () => {
  let mosquitto: TestBroker;
  let nats: TestBroker;
  let tmp: TempRun;
  beforeAll(async () => {
    [mosquitto, nats, tmp] = await Promise.all([startMosquitto(), startNatsServer(), tempRun()]);
  });
  afterAll(async () => {
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

  it('publishes one schema-valid decision per block to MQTT, JetStream and a JSONL file, then exits 0 by itself', async () => {
    const N = 20;
    const sub = await collect(mosquitto.url, ['e2ea/#']);
    const file = join(tmp.dir, 'a.jsonl');
    const config = await tmp.writeConfig(
      'a',
      runConfig({ prefix: 'e2ea', mqtt: mosquitto.url, nats: nats.url, source: { maxBlocks: N }, file }),
    );
    const proc = spawnCli(['run', '--config', config]);
    const { code } = await proc.exited;
    expect(code, proc.stderr()).toBe(0);
    expect(stoppedLine(proc)).toMatchObject({
      reason: 'source ended',
      code: 0,
      frames: N,
      decisions: N,
      dropped: 0,
    });

    await waitFor(() => decisionsOf(sub, 'e2ea').length >= N, `${N} decisions on MQTT`);
    const viaMqtt = decisionsOf(sub, 'e2ea');
    expect(viaMqtt).toHaveLength(N);
    expect(new Set(viaMqtt.map(keyOf)).size).toBe(N);
    expect(viaMqtt.every((d) => d.modelVersion === 'demo-lentils-2' && d.pixels === 8 * 32)).toBe(true);
    const raw = sub.messages.filter((m) => m.topic === 'e2ea/cam0/decisions');
    expect(raw.every((m) => m.qos === 1 && !m.retain && m.messageExpiryInterval === 60)).toBe(true);
    const statuses = sub.json('e2ea/cam0/status') as {
      state: string;
      modelVersion: string;
      threshold?: number;
    }[];
    expect(statuses.some((s) => s.state === 'online' && s.threshold !== undefined && s.threshold > 0)).toBe(
      true,
    );
    expect(statuses.at(-1)).toMatchObject({ state: 'offline', modelVersion: 'demo-lentils-2' });

    const inStream = await withJsm((jsm) => stored(jsm, 'E2EA'));
    expect(inStream.map((s) => keyOf(s.decision)).sort()).toEqual(viaMqtt.map(keyOf).sort());
    expect(inStream.every((s) => s.msgId === decisionMsgId(s.decision))).toBe(true);
    const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
    expect(lines.map((l) => keyOf(parseDecision(l))).sort()).toEqual(viaMqtt.map(keyOf).sort());
    await sub.close();
  });

  it('stores the decisions of a second run within the duplicate window (frame ids start again at 0)', async () => {
    const N = 10;
    const config = await tmp.writeConfig(
      'twice',
      runConfig({ prefix: 'e2etwice', mqtt: mosquitto.url, nats: nats.url, source: { maxBlocks: N } }),
    );
    for (const run of [1, 2]) {
      const proc = spawnCli(['run', '--config', config]);
      const { code } = await proc.exited;
      expect(code, proc.stderr()).toBe(0);
      expect(stoppedLine(proc)).toMatchObject({ decisions: N, dropped: 0 });
      const inStream = await withJsm((jsm) => stored(jsm, 'E2ETWICE'));
      // Both runs decide frames 0..N-1; the second run's decisions are new, not duplicates.
      expect(inStream).toHaveLength(N * run);
      expect(new Set(inStream.map((s) => s.msgId)).size).toBe(N * run);
    }
  });

  it('answers /readyz and /metrics while running, and on SIGTERM publishes every decision in flight and exits 0', async () => {
    const metricsPort = await freePort();
    const sub = await collect(mosquitto.url, ['e2eb/#']);
    const config = await tmp.writeConfig(
      'b',
      runConfig({
        prefix: 'e2eb',
        mqtt: mosquitto.url,
        nats: nats.url,
        source: { linesPerSecond: 80 },
        metricsPort,
      }),
    );
    const proc = spawnCli(['run', '--config', config]);
    await proc.waitForLog((l) => l.msg === 'service running', 'the service to run');
    await waitFor(() => decisionsOf(sub, 'e2eb').length >= 5, 'five decisions', 20_000);

    const url = `http://127.0.0.1:${metricsPort}`;
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { model: { ok: true }, 'sink:mqtt': { ok: true }, 'sink:nats': { ok: true } },
    });
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const name of METRIC_NAMES) expect(promFamilies(text), name).toContain(`${METRIC_PREFIX}${name}`);
    const samples = parsePromText(text);
    expect(promValue(samples, 'cubestream_frames_received_total', { camera: 'cam0' })).toBeGreaterThanOrEqual(
      5,
    );
    expect(promValue(samples, 'cubestream_decisions_total', { camera: 'cam0' })).toBeGreaterThanOrEqual(5);
    expect(promValue(samples, 'cubestream_frame_latency_seconds_count', { camera: 'cam0' })).toBeGreaterThan(
      0,
    );
    expect(promValue(samples, 'cubestream_broker_connected', { sink: 'mqtt' })).toBe(1);
    expect(promValue(samples, 'cubestream_broker_connected', { sink: 'nats' })).toBe(1);
    expect(promValue(samples, 'cubestream_model_info', { version: 'demo-lentils-2' })).toBe(1);
    expect(samples.some((s) => s.name === 'process_cpu_seconds_total')).toBe(true);

    proc.child.kill('SIGTERM');
    const { code } = await proc.exited;
    expect(code, proc.stderr()).toBe(0);
    const stopped = stoppedLine(proc);
    expect(stopped).toMatchObject({ reason: 'SIGTERM', code: 0, dropped: 0, rejected: 0 });
    const produced = stopped?.frames as number;
    expect(stopped?.decisions).toBe(produced);
    await waitFor(() => decisionsOf(sub, 'e2eb').length >= produced, `${produced} decisions`);
    const viaMqtt = decisionsOf(sub, 'e2eb');
    expect(viaMqtt).toHaveLength(produced);
    expect(new Set(viaMqtt.map(keyOf)).size).toBe(produced);
    const inStream = await withJsm((jsm) => stored(jsm, 'E2EB'));
    expect(inStream).toHaveLength(produced);
    await sub.close();
  });

  it('loses no decision when both brokers die mid-stream and come back (QoS 1 + offline queue, JetStream dedup)', async () => {
    const N = 40;
    const sub = await collect(mosquitto.url, ['e2ec/cam0/decisions'], {
      clientId: 'e2e-outage-sub',
      clean: false,
      properties: { sessionExpiryInterval: 600 },
    });
    const config = await tmp.writeConfig(
      'c',
      runConfig({
        prefix: 'e2ec',
        mqtt: mosquitto.url,
        nats: nats.url,
        source: { linesPerSecond: 80, maxBlocks: N },
      }),
    );
    const proc = spawnCli(['run', '--config', config]);
    await waitFor(() => decisionsOf(sub, 'e2ec').length >= 8, 'eight decisions', 20_000);
    // mosquitto persists its sessions on SIGTERM; nats-server -js is killed outright.
    await Promise.all([mosquitto.stop('SIGTERM'), nats.stop('SIGKILL')]);
    await proc.waitForLog((l) => l.msg === 'mqtt connection lost', 'the MQTT sink to notice');
    await proc.waitForLog((l) => l.msg === 'nats connection lost', 'the NATS sink to notice');
    await Promise.all([mosquitto.start(), nats.start()]);

    const { code } = await proc.exited;
    expect(code, proc.stderr()).toBe(0);
    expect(stoppedLine(proc)).toMatchObject({ reason: 'source ended', frames: N, decisions: N, dropped: 0 });
    await waitFor(
      () => new Set(decisionsOf(sub, 'e2ec').map(keyOf)).size >= N,
      `all ${N} decisions on MQTT`,
      20_000,
    );
    const viaMqtt = decisionsOf(sub, 'e2ec');
    const mqttDuplicates = viaMqtt.length - new Set(viaMqtt.map(keyOf)).size;

    const inStream = await withJsm((jsm) => stored(jsm, 'E2EC'));
    expect(new Set(inStream.map((s) => keyOf(s.decision))).size).toBe(N);
    expect(inStream).toHaveLength(N);
    const natsRetries = proc.logs.filter(
      (l) => l.sink === 'nats' && l.msg === 'publish attempt failed',
    ).length;
    const mqttRetries = proc.logs.filter(
      (l) => l.sink === 'mqtt' && l.msg === 'publish attempt failed',
    ).length;
    console.info(
      `broker restart: ${N} decisions; MQTT: ${mqttRetries} re-sent, ${mqttDuplicates} delivered twice, none lost; ` +
        `JetStream: ${natsRetries} re-sent, ${inStream.length} stored, each once (Nats-Msg-Id dedup), none lost`,
    );
    await sub.close();
  });

  it('kill -9 of the service flips the retained status to offline (last will)', async () => {
    const sub = await collect(mosquitto.url, ['e2ed/cam0/status']);
    const config = await tmp.writeConfig(
      'd',
      runConfig({ prefix: 'e2ed', mqtt: mosquitto.url, nats: nats.url, source: { linesPerSecond: 80 } }),
    );
    const proc = spawnCli(['run', '--config', config]);
    type Status = { state: string; modelVersion: string; threshold?: number };
    const statuses = () => sub.json('e2ed/cam0/status') as Status[];
    await waitFor(
      () => statuses().some((s) => s.state === 'online' && s.threshold !== undefined),
      'online status',
    );
    await proc.waitForLog((l) => l.msg === 'service running', 'the service to run');
    proc.child.kill('SIGKILL');
    expect((await proc.exited).signal).toBe('SIGKILL');
    await waitFor(() => statuses().at(-1)?.state === 'offline', 'the last will');
    expect(statuses().at(-1)).toMatchObject({ state: 'offline', modelVersion: 'demo-lentils-2' });
    expect(stoppedLine(proc)).toBeUndefined();
    await sub.close();
    // A new subscriber gets the retained offline status.
    const late = await collect(mosquitto.url, ['e2ed/cam0/status']);
    await waitFor(() => late.messages.length > 0, 'the retained status');
    expect(late.messages[0]).toMatchObject({ retain: true });
    expect(JSON.parse(late.messages[0]?.payload ?? '{}')).toMatchObject({ state: 'offline' });
    await late.close();
  });
});
