import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { FileDecisionSink } from '../../../connectors/sinks/file-sink.js';
import { MqttDecisionSink } from '../../../connectors/sinks/mqtt-sink.js';
import { NatsDecisionSink } from '../../../connectors/sinks/nats-sink.js';
import { DurableDecisionSink } from '../../../connectors/sinks/outbox/durable-sink.js';
import { RunConfigSchema, type SinksConfig } from '../../../src/app/service/run-config.js';
import { createSinks } from '../../../src/app/service/sinks.js';
import { ConfigError } from '../../../src/core/config-error.js';
import { validateConfig } from '../../../src/core/validate.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { REPO_ROOT } from '../../e2e/cli-process.js';

function parse(sinks: unknown): SinksConfig {
  return validateConfig(
    RunConfigSchema,
    { source: { kind: 'simulated' }, model: { path: 'm' }, sinks },
    'run.yaml',
  ).sinks;
}

function issues(sinks: unknown): string[] {
  try {
    parse(sinks);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => i.path);
    throw error;
  }
  return [];
}

describe('sinks.outbox', () => {
  it('is off by default, and fills segmentBytes (4 MiB), maxBytes (256 MiB) and fsync (false) when a dir is set', () => {
    expect(parse({}).outbox).toBeUndefined();
    expect(parse({ outbox: { dir: '/var/lib/cubestream/outbox' } }).outbox).toEqual({
      dir: '/var/lib/cubestream/outbox',
      segmentBytes: 4 * 1024 * 1024,
      maxBytes: 256 * 1024 * 1024,
      fsync: false,
    });
  });

  it('names the bad field: no dir, maxBytes below two segments, unknown keys', () => {
    expect(issues({ outbox: {} })).toEqual(['sinks.outbox.dir']);
    expect(issues({ outbox: { dir: 'o', segmentBytes: 1_000, maxBytes: 1_999 } })).toEqual([
      'sinks.outbox.maxBytes',
    ]);
    expect(issues({ outbox: { dir: 'o', size: 3 } })).toEqual(['sinks.outbox']);
  });

  it('is documented, with every option, in configs/run/production.yaml', async () => {
    const text = await readFile(`${REPO_ROOT}/configs/run/production.yaml`, 'utf8');
    for (const key of ['outbox:', 'dir:', 'segmentBytes: 4194304', 'maxBytes: 268435456', 'fsync: false']) {
      expect(text, key).toContain(key);
    }
  });

  it('makes the MQTT and NATS sinks durable (the file sink is itself a file); the MQTT sink itself still carries the status', async () => {
    const sinks = createSinks(
      parse({
        mqtt: { url: 'mqtt://127.0.0.1:1' },
        nats: { servers: 'nats://127.0.0.1:1' },
        file: { path: '/tmp/never-opened.jsonl' },
        outbox: { dir: '/tmp/never-opened-outbox' },
      }),
      { modelVersion: 'm', cameraIds: ['cam0'], logger: createLogger({ level: 'silent' }) },
    );
    const [mqtt, nats, file] = sinks.decisions;
    expect(mqtt).toBeInstanceOf(DurableDecisionSink);
    expect((mqtt as DurableDecisionSink).inner).toBe(sinks.mqtt);
    expect((mqtt as DurableDecisionSink).journal.dir).toBe('/tmp/never-opened-outbox/mqtt');
    expect((nats as DurableDecisionSink).inner).toBeInstanceOf(NatsDecisionSink);
    expect(file).toBeInstanceOf(FileDecisionSink);
    expect(sinks.mqtt).toBeInstanceOf(MqttDecisionSink);
    await sinks.close();
  });
});
