import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDecision } from '../../../connectors/codec/decision-json.js';
import { deadLetterFromError } from '../../../connectors/sinks/dead-letter.js';
import { SinkAuthError } from '../../../connectors/sinks/errors.js';
import { MqttDecisionSink } from '../../../connectors/sinks/mqtt-sink.js';
import { sinkHealthCheck } from '../../../connectors/sinks/sink.js';
import { CubestreamError } from '../../../src/core/errors.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { brokersInstalled, startMosquitto, type TestBroker } from '../../helpers/brokers.js';
import { makeDecisions } from '../../helpers/decision-fixture.js';
import { collect, waitFor } from '../../helpers/mqtt-collector.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const logger = createLogger({ level: 'silent' });
const skip = !brokersInstalled && process.env.CI !== 'true';
if (skip) console.warn('mqtt-sink tests skipped: /usr/sbin/mosquitto is not installed');

describe.skipIf(skip)('MqttDecisionSink against mosquitto', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  it('publishes each decision with QoS 1, not retained, with MQTT 5 message expiry, and a retained status', async () => {
    const prefix = 't1';
    const sub = await collect(broker.url, [`${prefix}/#`]);
    const metrics = createMetrics({ defaultMetrics: false });
    const sink = new MqttDecisionSink({
      url: broker.url,
      cameraIds: ['cam1'],
      prefix,
      modelVersion: 'm-7',
      messageExpirySeconds: 45,
      metrics,
      logger,
    });
    expect(sinkHealthCheck(sink).ok).toBe(false);
    await sink.connect();
    expect(sink.connected).toBe(true);
    expect(sink.protocolVersion).toBe(5);
    expect(sinkHealthCheck(sink)).toMatchObject({ name: 'sink:mqtt', ok: true });
    expect(await metrics.registry.metrics()).toContain('cubestream_broker_connected{sink="mqtt"} 1');

    const decisions = makeDecisions(10);
    const outcomes = await Promise.all(decisions.map((d) => sink.publish(d)));
    expect(outcomes).toEqual(Array(10).fill('acked'));
    await sink.publishStatus('cam1', { threshold: 0.42 });

    const topic = `${prefix}/cam1/decisions`;
    await waitFor(() => sub.json(topic).length === 10, '10 decisions');
    const received = sub.messages.filter((m) => m.topic === topic);
    expect(received.map((m) => parseDecision(m.payload))).toEqual(decisions);
    for (const m of received) {
      expect(m.qos).toBe(1);
      expect(m.retain).toBe(false);
      expect(m.messageExpiryInterval).toBeGreaterThan(0);
      expect(m.messageExpiryInterval).toBeLessThanOrEqual(45);
    }

    // A fresh subscriber sees the retained status, with the threshold.
    const statusTopic = `${prefix}/cam1/status`;
    const fresh = await collect(broker.url, [statusTopic]);
    await waitFor(() => fresh.messages.length > 0, 'retained status');
    expect(fresh.messages[0]?.retain).toBe(true);
    expect(JSON.parse(fresh.messages[0]?.payload ?? '')).toMatchObject({
      state: 'online',
      modelVersion: 'm-7',
      threshold: 0.42,
    });
    await fresh.close();

    await sink.close();
    expect(sink.connected).toBe(false);
    expect(await metrics.registry.metrics()).toContain('cubestream_broker_connected{sink="mqtt"} 0');
    await waitFor(
      () => sub.json(statusTopic).some((s) => (s as { state: string }).state === 'offline'),
      'offline',
    );
    await expect(sink.publish(decisions[0]!)).rejects.toThrow(/closed/);
    await sub.close();
  });

  it('flips the retained status to offline through the last will when the process is killed -9', async () => {
    const prefix = 't2';
    const statusTopic = `${prefix}/camk/status`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/mqtt-sink-child.ts', broker.url, 'camk', prefix],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      await waitFor(() => stdout.includes('"ready":true') || child.exitCode !== null, 'child ready', 15_000);
      expect(child.exitCode, stderr).toBeNull();

      const before = await collect(broker.url, [statusTopic]);
      await waitFor(() => before.messages.length > 0, 'retained online');
      expect(JSON.parse(before.messages[0]?.payload ?? '')).toMatchObject({
        state: 'online',
        modelVersion: 'child-model',
        threshold: 0.25,
      });
      await before.close();

      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));

      // A fresh subscriber (connected after the death) must see the retained offline will.
      let state = '';
      const deadline = Date.now() + 10_000;
      while (state !== 'offline' && Date.now() < deadline) {
        const after = await collect(broker.url, [statusTopic]);
        await waitFor(() => after.messages.length > 0, 'retained status after kill');
        const status = JSON.parse(after.messages[0]?.payload ?? '{}') as {
          state: string;
          modelVersion: string;
        };
        state = status.state;
        expect(after.messages[0]?.retain).toBe(true);
        expect(status.modelVersion).toBe('child-model');
        await after.close();
        if (state !== 'offline') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(state).toBe('offline');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('publishes dead letters on <prefix>/<cameraId>/deadletter', async () => {
    const prefix = 't3';
    const sub = await collect(broker.url, [`${prefix}/+/deadletter`]);
    const sink = new MqttDecisionSink({
      url: broker.url,
      cameraIds: ['cam1'],
      prefix,
      modelVersion: 'm',
      logger,
    });
    await sink.connect();
    const letter = deadLetterFromError(
      new CubestreamError('truncated', 'payload: 10 bytes, header says 99'),
      {
        cameraId: 'cam1',
        frameId: 5,
        at: 77,
      },
    );
    expect(await sink.publishDeadLetter(letter)).toBe('acked');
    expect(await sink.publishDeadLetter({ reason: 'decode', message: 'no camera_id', at: 78 })).toBe('acked');
    await waitFor(() => sub.messages.length === 2, 'two dead letters');
    const byTopic = Object.fromEntries(sub.messages.map((m) => [m.topic, JSON.parse(m.payload) as unknown]));
    expect(byTopic[`${prefix}/cam1/deadletter`]).toEqual({
      schema: 'cubestream.deadletter/1',
      reason: 'truncated',
      message: 'payload: 10 bytes, header says 99',
      cameraId: 'cam1',
      frameId: 5,
      at: 77,
    });
    expect(byTopic[`${prefix}/_unknown/deadletter`]).toMatchObject({ reason: 'decode', at: 78 });
    expect(sub.messages.every((m) => m.messageExpiryInterval === undefined)).toBe(true);
    await sink.close();
    await sub.close();
  });

  it('opens a connection with its own retained status for a camera not listed in cameraIds', async () => {
    const prefix = 't4';
    const sub = await collect(broker.url, [`${prefix}/#`]);
    const sink = new MqttDecisionSink({
      url: broker.url,
      cameraIds: ['cam1'],
      prefix,
      modelVersion: 'm',
      logger,
    });
    await sink.connect();
    const [decision] = makeDecisions(1, 'cam2');
    expect(await sink.publish(decision!)).toBe('queued');
    await sink.flush(5_000);
    await waitFor(() => sub.json(`${prefix}/cam2/decisions`).length === 1, 'cam2 decision');
    await waitFor(() => sub.json(`${prefix}/cam2/status`).length === 1, 'cam2 status');
    expect(sub.json(`${prefix}/cam2/status`)[0]).toMatchObject({ state: 'online' });
    await sink.close();
    await sub.close();
  });

  it('rejects connect() with SinkAuthError when the broker refuses the credentials', async () => {
    const locked = await startMosquitto({ allowAnonymous: false });
    try {
      const errors: Error[] = [];
      const sink = new MqttDecisionSink({
        url: locked.url,
        cameraIds: ['cam1'],
        modelVersion: 'm',
        username: 'nobody',
        password: 'wrong',
        logger,
        onError: (e) => errors.push(e),
      });
      const error = await sink.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SinkAuthError);
      expect(String(error)).toContain(`${locked.url} refused the credentials`);
      expect(errors.some((e) => e instanceof SinkAuthError)).toBe(true);
      expect(sink.connected).toBe(false);
      await sink.close();
    } finally {
      await locked.dispose();
    }
  });

  it('validates its options and names the bad one', () => {
    const base = { url: broker.url, modelVersion: 'm', logger };
    expect(() => new MqttDecisionSink({ ...base, cameraIds: [] })).toThrow(/option cameraIds/);
    expect(() => new MqttDecisionSink({ ...base, cameraIds: ['a/b'] })).toThrow(/cameraId "a\/b"/);
    expect(() => new MqttDecisionSink({ ...base, cameraIds: ['c'], offlineQueueSize: 0 })).toThrow(
      /option offlineQueueSize = 0/,
    );
    expect(() => new MqttDecisionSink({ ...base, cameraIds: ['c'], url: 'not a url' })).toThrow(/option url/);
  });
});
