/**
 * One source of defaults for the connectors: what a sink or source uses when given no option is
 * its settings schema parsed from `{}`, and the run configuration's sections fill in the same.
 */
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { MQTT_SINK_DEFAULTS, MqttSinkSettingsSchema } from '../../connectors/sinks/mqtt-sink-options.js';
import { NATS_SINK_DEFAULTS, NatsSinkSettingsSchema } from '../../connectors/sinks/nats-sink-options.js';
import { ensureDecisionStream } from '../../connectors/sinks/nats-stream.js';
import {
  MqttSourceSettingsSchema,
  NatsSourceSettingsSchema,
} from '../../connectors/sources/broker-source-options.js';
import { SimulatedSourceSettingsSchema } from '../../connectors/sources/simulated-source-options.js';
import { resolveSimOptions } from '../../connectors/sources/simulator/options.js';
import { loadRunConfig, RunConfigSchema } from '../../src/app/service/run-config.js';
import { REPO_ROOT } from '../e2e/cli-process.js';

/** A JetStream manager without the stream, recording the stream `ensureDecisionStream` adds. */
function emptyJetStream(): { jsm: JetStreamManager; added: unknown[] } {
  const added: unknown[] = [];
  const streams = {
    info: () =>
      Promise.reject(
        new JetStreamApiError({
          err_code: JetStreamApiCodes.StreamNotFound,
          code: 404,
          description: 'stream not found',
        }),
      ),
    add: (config: unknown) => {
      added.push(config);
      return Promise.resolve({ config });
    },
  };
  return { jsm: { streams } as unknown as JetStreamManager, added };
}

describe('connector defaults', () => {
  it('the NATS sink creates the decision stream with the schema defaults', async () => {
    const stream = NatsSinkSettingsSchema.parse({}).stream;
    const { jsm, added } = emptyJetStream();
    await ensureDecisionStream(jsm, 'cubestream.decisions.>');
    expect(added).toEqual([
      {
        name: stream.name,
        subjects: ['cubestream.decisions.>'],
        duplicate_window: nanos(stream.duplicateWindowMs),
        max_age: nanos(stream.maxAgeMs),
        storage: stream.storage,
        num_replicas: stream.replicas,
      },
    ]);
    expect(stream).toEqual(NATS_SINK_DEFAULTS.stream);
  });

  it('the simulated camera resolves no option to the schema defaults', () => {
    const defaults = SimulatedSourceSettingsSchema.parse({});
    const used = resolveSimOptions({});
    expect({
      cameraId: used.cameraId,
      width: used.width,
      blockRows: used.blockRows,
      seed: used.seed,
      anomalyRate: used.anomalyRate,
      coverage: used.coverage,
      output: used.output,
      bands: used.wavelengths.length,
    }).toEqual({
      cameraId: defaults.cameraId,
      width: defaults.width,
      blockRows: defaults.blockRows,
      seed: defaults.seed,
      anomalyRate: defaults.anomalyRate,
      coverage: defaults.coverage,
      output: defaults.output,
      bands: resolveSimOptions({ preset: defaults.preset }).wavelengths.length,
    });
  });

  it('the run configuration fills each connector section from its schema', () => {
    const config = RunConfigSchema.parse({
      source: { kind: 'mqtt', url: 'mqtt://b:1883' },
      model: { path: 'm' },
      sinks: { mqtt: { url: 'mqtt://b:1883' }, nats: { servers: 'nats://n:4222' } },
    });
    expect(config.source).toMatchObject(MqttSourceSettingsSchema.parse({}));
    expect(config.sinks.mqtt).toMatchObject(MqttSinkSettingsSchema.parse({}));
    expect(config.sinks.mqtt).toMatchObject(MQTT_SINK_DEFAULTS);
    expect(config.sinks.nats).toMatchObject(NATS_SINK_DEFAULTS);
    const nats = RunConfigSchema.parse({ source: { kind: 'nats', servers: 'n' }, model: { path: 'm' } });
    expect(nats.source).toMatchObject(NatsSourceSettingsSchema.parse({}));
    const simulated = RunConfigSchema.parse({ source: { kind: 'simulated' }, model: { path: 'm' } });
    expect(simulated.source).toEqual({ kind: 'simulated', ...SimulatedSourceSettingsSchema.parse({}) });
  });
});

describe('configs/run/production.yaml', () => {
  it('states the sink defaults as they are', async () => {
    const production = await loadRunConfig(`${REPO_ROOT}/configs/run/production.yaml`);
    expect(production.sinks.mqtt).toMatchObject(MQTT_SINK_DEFAULTS);
    expect(production.sinks.nats).toMatchObject(NATS_SINK_DEFAULTS);
    expect(production.source).toMatchObject(MqttSourceSettingsSchema.parse({}));
  });
});
