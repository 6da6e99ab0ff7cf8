/**
 * The `onDelivered` hook: the only way to learn that a decision whose `publish()` resolved
 * `queued` (broker away) reached the broker later. Real mosquitto and nats-server -js.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileDecisionSink } from '../../../connectors/sinks/file-sink.js';
import { MqttDecisionSink } from '../../../connectors/sinks/mqtt-sink.js';
import { NatsDecisionSink } from '../../../connectors/sinks/nats-sink.js';
import type { DecisionSink } from '../../../connectors/sinks/sink.js';
import type { Decision } from '../../../src/core/decision.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { brokersInstalled, startMosquitto, startNatsServer, type TestBroker } from '../../helpers/brokers.js';
import { makeDecisions } from '../../helpers/decision-fixture.js';
import { waitFor } from '../../helpers/mqtt-collector.js';
import { tempDir } from './outbox/helpers.js';

const logger = createLogger({ level: 'silent' });
const skip = !brokersInstalled && process.env.CI !== 'true';

/** Publishes 3 decisions with the broker up, 3 with it down (queued), brings it back; returns what was delivered. */
async function acrossOutage(
  broker: TestBroker,
  sink: DecisionSink,
  delivered: Decision[],
): Promise<{ outcomes: string[]; decisions: Decision[] }> {
  await sink.connect();
  const decisions = makeDecisions(6);
  const outcomes: string[] = [];
  for (const d of decisions.slice(0, 3)) outcomes.push(await sink.publish(d));
  await broker.stop('SIGTERM');
  await waitFor(() => !sink.connected, 'the sink to notice the outage');
  for (const d of decisions.slice(3)) outcomes.push(await sink.publish(d));
  expect(delivered).toEqual(decisions.slice(0, 3));
  await broker.start();
  await sink.flush(20_000);
  await waitFor(() => delivered.length === 6, 'six deliveries');
  await sink.close();
  return { outcomes, decisions };
}

describe.skipIf(skip)('SinkHooks.onDelivered', () => {
  let mosquitto: TestBroker;
  let nats: TestBroker;
  beforeAll(async () => {
    [mosquitto, nats] = await Promise.all([startMosquitto(), startNatsServer()]);
  });
  afterAll(async () => {
    await Promise.all([mosquitto?.dispose(), nats?.dispose()]);
  });

  it('MQTT: is called on each PUBACK, also for the decisions queued while the broker was down', async () => {
    const delivered: Decision[] = [];
    const sink = new MqttDecisionSink({
      url: mosquitto.url,
      cameraIds: ['cam1'],
      prefix: 'dh',
      modelVersion: 'm',
      reconnect: { initialMs: 100, maxMs: 300 },
      logger,
      onDelivered: (d) => delivered.push(d),
    });
    const { outcomes, decisions } = await acrossOutage(mosquitto, sink, delivered);
    expect(outcomes).toEqual(['acked', 'acked', 'acked', 'queued', 'queued', 'queued']);
    expect([...delivered].sort((a, b) => a.frameId - b.frameId)).toEqual(decisions);
  });

  it('NATS JetStream: is called on each PubAck, also for the decisions queued while the server was down', async () => {
    const delivered: Decision[] = [];
    const sink = new NatsDecisionSink({
      servers: nats.url,
      subjectPrefix: 'dh',
      stream: { name: 'DH' },
      reconnectTimeWaitMs: 100,
      retry: { initialMs: 100, maxMs: 300 },
      publishTimeoutMs: 1_000,
      logger,
      onDelivered: (d) => delivered.push(d),
    });
    const { outcomes, decisions } = await acrossOutage(nats, sink, delivered);
    expect(outcomes.slice(0, 3)).toEqual(['acked', 'acked', 'acked']);
    expect(outcomes.slice(3)).toEqual(['queued', 'queued', 'queued']);
    expect([...delivered].sort((a, b) => a.frameId - b.frameId)).toEqual(decisions);
  });

  it('file: is called once the line is written', async () => {
    const tmp = await tempDir();
    const delivered: Decision[] = [];
    const sink = new FileDecisionSink({
      path: path.join(tmp.dir, 'd.jsonl'),
      onDelivered: (d) => delivered.push(d),
    });
    await sink.connect();
    const decisions = makeDecisions(2);
    for (const d of decisions) await sink.publish(d);
    expect(delivered).toEqual(decisions);
    await sink.close();
    await tmp.dispose();
  });
});
