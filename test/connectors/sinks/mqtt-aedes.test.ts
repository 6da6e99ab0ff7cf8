import { once } from 'node:events';
import net from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDecision } from '../../../connectors/codec/decision-json.js';
import { SinkConnectTimeoutError } from '../../../connectors/sinks/errors.js';
import { MqttDecisionSink } from '../../../connectors/sinks/mqtt-sink.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { makeDecisions } from '../../helpers/decision-fixture.js';
import { collect, waitFor } from '../../helpers/mqtt-collector.js';

const logger = createLogger({ level: 'silent' });

describe('MqttDecisionSink against aedes (MQTT 3.1.1 only)', () => {
  let broker: Aedes;
  let server: net.Server;
  let url = '';
  beforeAll(async () => {
    broker = await Aedes.createBroker();
    server = net.createServer(broker.handle);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  });

  it('falls back from MQTT 5 to 3.1.1 and still delivers decisions (without message expiry) and status', async () => {
    const sub = await collect(url, ['a1/#'], { protocolVersion: 4 });
    const sink = new MqttDecisionSink({
      url,
      cameraIds: ['cam1'],
      prefix: 'a1',
      modelVersion: 'm-a',
      logger,
    });
    await sink.connect();
    expect(sink.protocolVersion).toBe(4);
    const decisions = makeDecisions(6);
    expect(await Promise.all(decisions.map((d) => sink.publish(d)))).toEqual(Array(6).fill('acked'));
    await waitFor(() => sub.json('a1/cam1/decisions').length === 6, 'six decisions');
    const received = sub.messages.filter((m) => m.topic === 'a1/cam1/decisions');
    expect(received.map((m) => parseDecision(m.payload))).toEqual(decisions);
    expect(received.every((m) => m.qos === 1 && m.messageExpiryInterval === undefined)).toBe(true);
    await waitFor(() => sub.json('a1/cam1/status').length > 0, 'status');
    expect(sub.json('a1/cam1/status')[0]).toMatchObject({ state: 'online', modelVersion: 'm-a' });
    await sink.close();
    await waitFor(
      () => sub.json('a1/cam1/status').some((s) => (s as { state: string }).state === 'offline'),
      'offline status',
    );
    await sub.close();
  });

  it('cannot connect when forced to MQTT 5 (the fallback is what makes aedes work)', async () => {
    const sink = new MqttDecisionSink({
      url,
      cameraIds: ['cam1'],
      prefix: 'a2',
      modelVersion: 'm',
      protocol: 5,
      connectTimeoutMs: 800,
      reconnect: { initialMs: 100, maxMs: 200 },
      logger,
    });
    await expect(sink.connect()).rejects.toBeInstanceOf(SinkConnectTimeoutError);
    expect(sink.connected).toBe(false);
    expect(sink.protocolVersion).toBe(5);
    await sink.close();
  });
});
