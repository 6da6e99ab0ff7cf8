import { describe, expect, it } from 'vitest';
import { expectedCameraIds, loadRunConfig, RunConfigSchema } from '../../../src/app/service/run-config.js';
import { ConfigError } from '../../../src/core/config-error.js';
import { validateConfig } from '../../../src/core/validate.js';
import { REPO_ROOT } from '../../e2e/cli-process.js';

function issues(value: unknown): string[] {
  try {
    validateConfig(RunConfigSchema, value, 'run.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => i.path);
    throw error;
  }
  return [];
}

describe('RunConfigSchema', () => {
  it('fills every default from a minimal config', () => {
    const config = validateConfig(
      RunConfigSchema,
      { source: { kind: 'simulated' }, model: { path: 'models/demo' } },
      'run.yaml',
    );
    expect(config.source).toMatchObject({
      kind: 'simulated',
      cameraId: 'cam0',
      width: 256,
      blockRows: 64,
      seed: 1,
    });
    expect(config.pipeline).toMatchObject({
      threshold: { mode: 'rolling', windowFrames: 50, sketch: 'ddsketch' },
      center: { mode: 'gated-ema', alpha: 0.005 },
      decide: { connectivity: 8, assemble: 'block' },
      backpressure: { policy: 'dropOldest', capacity: 4 },
    });
    expect(config.sinks).toEqual({ deadLetter: { targets: ['mqtt', 'nats'] } });
    expect(config.metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(config.viewer).toMatchObject({ enabled: true, port: 8080, host: '127.0.0.1' });
    expect(config.engine).toEqual({ backend: 'auto' });
    expect(config.shutdown).toEqual({ deadlineMs: 10_000 });
  });

  it('fills the sink defaults of docs/wire-format.md §2 (QoS topics, JetStream stream)', () => {
    const config = validateConfig(
      RunConfigSchema,
      {
        source: { kind: 'nats', servers: 'nats://n:4222' },
        model: { path: 'm' },
        sinks: { mqtt: { url: 'mqtt://b:1883' }, nats: { servers: ['nats://n:4222'] } },
      },
      'run.yaml',
    );
    expect(config.sinks.mqtt).toMatchObject({
      topicPrefix: 'cubestream',
      protocol: 'auto',
      messageExpirySeconds: 60,
      offlineQueue: { overflow: 'drop-oldest' },
      statusRefresh: { minRelativeChange: 0.05, minIntervalMs: 5_000 },
    });
    expect(config.sinks.nats).toMatchObject({
      mode: 'jetstream',
      stream: { name: 'CUBESTREAM_DECISIONS', create: true, duplicateWindowMs: 120_000 },
    });
    expect(config.source).toMatchObject({ subject: 'cubestream.frames.*', cameraIds: ['cam0'] });
  });

  it('names the YAML path of every problem', () => {
    expect(
      issues({
        source: { kind: 'simulated', width: 0, linesPerSecond: -1 },
        model: {},
        pipeline: { threshold: { q: 1.5 }, decide: { connectivity: 6 } },
        sinks: { mqtt: { url: 'mqtt://x', protocol: 3 }, deadLetter: { targets: ['kafka'] } },
        metrics: { port: 70_000 },
        log: { level: 'loud' },
        extra: true,
      }).sort(),
    ).toEqual(
      [
        '(root)',
        'source.width',
        'source.linesPerSecond',
        'model.path',
        'pipeline.threshold.q',
        'pipeline.decide.connectivity',
        'sinks.mqtt.protocol',
        'sinks.deadLetter.targets.0',
        'metrics.port',
        'log.level',
      ].sort(),
    );
    expect(issues({ source: { kind: 'kafka' }, model: { path: 'm' } })).toEqual(['source.kind']);
    expect(issues({ source: { kind: 'envi' }, model: { path: 'm' } })).toEqual(['source.path']);
    expect(
      issues({ source: { kind: 'mqtt', url: 'mqtt://x', cameraIds: ['a/b'] }, model: { path: 'm' } }),
    ).toEqual(['source.cameraIds.0']);
  });

  it('loads the shipped configs/run files', async () => {
    const demo = await loadRunConfig(`${REPO_ROOT}/configs/run/demo.yaml`);
    expect(demo.source).toMatchObject({ kind: 'simulated', linesPerSecond: 640 });
    expect(demo.sinks.mqtt?.url).toBe('mqtt://127.0.0.1:1883');
    const production = await loadRunConfig(`${REPO_ROOT}/configs/run/production.yaml`);
    expect(production.source.kind).toBe('mqtt');
    expect(production.sinks.nats?.mode).toBe('jetstream');
    expect(production.sinks.mqtt?.offlineQueue).toEqual({ size: 1000, overflow: 'drop-oldest' });
  });

  it('opens status connections for the sink cameras, else the source camera(s)', () => {
    const parse = (value: unknown) => validateConfig(RunConfigSchema, value, 'run.yaml');
    expect(
      expectedCameraIds(parse({ source: { kind: 'simulated', cameraId: 'line3' }, model: { path: 'm' } })),
    ).toEqual(['line3']);
    expect(
      expectedCameraIds(
        parse({ source: { kind: 'mqtt', url: 'mqtt://x', cameraIds: ['a', 'b'] }, model: { path: 'm' } }),
      ),
    ).toEqual(['a', 'b']);
    expect(
      expectedCameraIds(
        parse({
          source: { kind: 'envi', path: 'x' },
          model: { path: 'm' },
          sinks: { mqtt: { url: 'mqtt://x', cameraIds: ['c'] } },
        }),
      ),
    ).toEqual(['c']);
  });
});
