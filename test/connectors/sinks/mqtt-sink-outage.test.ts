import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDecision } from '../../../connectors/codec/decision-json.js';
import { MqttDecisionSink } from '../../../connectors/sinks/mqtt-sink.js';
import type { DroppedMessage, PublishOutcome } from '../../../connectors/sinks/sink.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { brokersInstalled, startMosquitto, type TestBroker } from '../../helpers/brokers.js';
import { makeDecisions } from '../../helpers/decision-fixture.js';
import { type Collector, collect, waitFor } from '../../helpers/mqtt-collector.js';

const logger = createLogger({ level: 'silent' });
const skip = !brokersInstalled && process.env.CI !== 'true';
if (skip) console.warn('mqtt outage tests skipped: /usr/sbin/mosquitto is not installed');

/** A persistent-session subscriber: fixed client id, clean: false, session kept 10 min. */
function persistentSubscriber(broker: TestBroker, topic: string, clientId: string): Promise<Collector> {
  return collect(broker.url, [topic], {
    clientId,
    clean: false,
    properties: { sessionExpiryInterval: 600 },
  });
}

function frameCounts(sub: Collector, topic: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const m of sub.messages) {
    if (m.topic !== topic) continue;
    const { frameId } = parseDecision(m.payload);
    counts.set(frameId, (counts.get(frameId) ?? 0) + 1);
  }
  return counts;
}

describe.skipIf(skip)('MqttDecisionSink across broker outages (mosquitto restarted on the same port)', () => {
  let broker: TestBroker;
  beforeEach(async () => {
    broker = await startMosquitto();
  });
  afterEach(async () => {
    await broker?.dispose();
  });

  it('delivers all N decisions published before, during and after a broker restart (QoS 1 + offline queue)', async () => {
    const topic = 'o1/cam1/decisions';
    const sub = await persistentSubscriber(broker, topic, 'outage-sub-1');
    const metrics = createMetrics({ defaultMetrics: false });
    const sink = new MqttDecisionSink({
      url: broker.url,
      cameraIds: ['cam1'],
      prefix: 'o1',
      modelVersion: 'm',
      reconnect: { initialMs: 100, maxMs: 400 },
      metrics,
      logger,
    });
    await sink.connect();

    const N = 90;
    const decisions = makeDecisions(N);
    const outcomes: Promise<PublishOutcome>[] = [];
    for (const d of decisions.slice(0, 30)) outcomes.push(sink.publish(d));
    // Stop mid-stream: the last of these may still be in flight when the broker goes away.
    await broker.stop('SIGTERM');
    for (const d of decisions.slice(30, 45)) outcomes.push(sink.publish(d));
    await waitFor(() => !sink.connected, 'sink to notice the outage');
    expect(await metrics.registry.metrics()).toContain('cubestream_broker_connected{sink="mqtt"} 0');
    for (const d of decisions.slice(45, 60)) outcomes.push(sink.publish(d));
    await broker.start();
    for (const d of decisions.slice(60)) outcomes.push(sink.publish(d));

    await sink.flush(15_000);
    const settled = await Promise.all(outcomes);
    expect(settled.filter((o) => o === 'queued').length).toBeGreaterThanOrEqual(15);
    expect(settled).not.toContain('dropped');
    expect(sink.connected).toBe(true);

    await waitFor(() => frameCounts(sub, topic).size === N, `all ${N} frame ids`, 15_000);
    const counts = frameCounts(sub, topic);
    const missing = decisions.map((d) => d.frameId).filter((id) => !counts.has(id));
    const duplicates = [...counts.values()].filter((c) => c > 1).length;
    expect(missing).toEqual([]);
    console.info(`mqtt restart: ${N} decisions, ${duplicates} delivered twice, none lost`);
    await sink.close();
    await sub.close();
  });

  it('counts offline-queue overflow (drop-oldest) and delivers the newest decisions after the restart', async () => {
    const topic = 'o2/cam1/decisions';
    const sub = await persistentSubscriber(broker, topic, 'outage-sub-2');
    const metrics = createMetrics({ defaultMetrics: false });
    const drops: DroppedMessage[] = [];
    const sink = new MqttDecisionSink({
      url: broker.url,
      cameraIds: ['cam1'],
      prefix: 'o2',
      modelVersion: 'm',
      offlineQueueSize: 5,
      reconnect: { initialMs: 100, maxMs: 400 },
      metrics,
      logger,
      onDrop: (d) => drops.push(d),
    });
    await sink.connect();
    await broker.stop('SIGTERM');
    await waitFor(() => !sink.connected, 'sink to notice the outage');

    const decisions = makeDecisions(12);
    const outcomes = await Promise.all(decisions.map((d) => sink.publish(d)));
    expect(outcomes).toEqual(Array(12).fill('queued'));
    expect(sink.pending).toBe(5);
    expect(drops.map((d) => d.decision?.frameId)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(drops.every((d) => d.reason === 'overflow' && d.sink === 'mqtt' && d.destination === topic)).toBe(
      true,
    );
    expect(await metrics.registry.metrics()).toContain('cubestream_publish_errors_total{sink="mqtt"} 7');

    await broker.start();
    await sink.flush(10_000);
    await waitFor(() => frameCounts(sub, topic).size === 5, 'the 5 newest decisions', 10_000);
    expect([...frameCounts(sub, topic).keys()].sort((a, b) => a - b)).toEqual([8, 9, 10, 11, 12]);
    await sink.close();
    await sub.close();
  });

  it('with drop-newest, refuses the newest decisions and resolves them as dropped', async () => {
    const sink = new MqttDecisionSink({
      url: broker.url,
      cameraIds: ['cam1'],
      prefix: 'o3',
      modelVersion: 'm',
      offlineQueueSize: 2,
      overflow: 'drop-newest',
      reconnect: { initialMs: 100, maxMs: 400 },
      logger,
    });
    await sink.connect();
    await broker.stop('SIGKILL');
    await waitFor(() => !sink.connected, 'sink to notice the outage');
    const outcomes = await Promise.all(makeDecisions(4).map((d) => sink.publish(d)));
    expect(outcomes).toEqual(['queued', 'queued', 'dropped', 'dropped']);
    await expect(sink.flush(200)).rejects.toThrow(/2 message\(s\) still unacknowledged after 200 ms/);
    await sink.close();
    expect(sink.pending).toBe(0);
  });
});
