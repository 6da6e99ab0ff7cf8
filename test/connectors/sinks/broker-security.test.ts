/**
 * Broker connections as a locked-down plant has them: TLS that the configured CA does not trust
 * fails the connect at once (not a timeout), and credentials in a URL never reach a log line.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SinkTlsError } from '../../../connectors/sinks/errors.js';
import { MqttDecisionSink } from '../../../connectors/sinks/mqtt-sink.js';
import { NatsDecisionSink } from '../../../connectors/sinks/nats-sink.js';
import { mqttFrames } from '../../../connectors/sources/mqtt-frames.js';
import { resolveDemoModelDir } from '../../../src/app/service/demo-settings.js';
import { type RunConfigInput, RunConfigSchema } from '../../../src/app/service/run-config.js';
import { startService } from '../../../src/app/service/service.js';
import { ServiceFileError } from '../../../src/app/service/service-errors.js';
import { ConfigError } from '../../../src/core/config-error.js';
import { validateConfig } from '../../../src/core/validate.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { brokersInstalled, startMosquitto, startNatsServer, type TestBroker } from '../../helpers/brokers.js';
import { makeTlsFiles, type TlsFiles } from '../../helpers/tls-certs.js';

const skip = !brokersInstalled && process.env.CI !== 'true';

/** A logger whose JSON lines are kept as text. */
function capturedLogger(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), text: () => chunks.join('') };
}

describe.skipIf(skip)('broker TLS and credentials', () => {
  let tls: TlsFiles;
  let mqtts: TestBroker;
  let natsTls: TestBroker;
  let plain: TestBroker;
  beforeAll(async () => {
    tls = await makeTlsFiles();
    [mqtts, natsTls, plain] = await Promise.all([
      startMosquitto({ tls }),
      startNatsServer({ tls }),
      startMosquitto(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([mqtts?.dispose(), natsTls?.dispose(), plain?.dispose()]);
    await tls?.dispose();
  });

  it('MQTT: a broker certificate the CA does not trust fails connect() with SinkTlsError, long before the timeout', async () => {
    const { logger } = capturedLogger();
    const sink = new MqttDecisionSink({
      url: mqtts.url,
      cameraIds: ['cam0'],
      modelVersion: 'v1',
      tls: { caFile: tls.otherCaFile },
      connectTimeoutMs: 600_000,
      logger,
    });
    const failure = await sink.connect().catch((error: unknown) => error);
    await sink.close();
    expect(failure).toBeInstanceOf(SinkTlsError);
    expect(String(failure)).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(String(failure)).toContain('tls.caFile');
  });

  it('MQTT: the right CA connects', async () => {
    const sink = new MqttDecisionSink({
      url: mqtts.url,
      cameraIds: ['cam0'],
      modelVersion: 'v1',
      tls: { caFile: tls.caFile },
      logger: createLogger({ level: 'silent' }),
    });
    await sink.connect();
    expect(sink.connected).toBe(true);
    await sink.close();
  });

  it('MQTT source: an untrusted broker certificate ends the frame stream with the reason', async () => {
    const source = mqttFrames({ url: mqtts.url, client: { ca: readFileSync(tls.otherCaFile) } });
    await expect(firstValueFrom(source.frames)).rejects.toThrow(
      'TLS failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    );
  });

  it('NATS: a server certificate the CA does not trust fails connect() with SinkTlsError', async () => {
    const sink = new NatsDecisionSink({
      servers: natsTls.url,
      tls: { caFile: tls.otherCaFile },
      connectTimeoutMs: 600_000,
      logger: createLogger({ level: 'silent' }),
    });
    const failure = await sink.connect().catch((error: unknown) => error);
    await sink.close();
    expect(failure).toBeInstanceOf(SinkTlsError);
    expect(String(failure)).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('NATS: the right CA connects and checks the stream', async () => {
    const sink = new NatsDecisionSink({
      servers: natsTls.url,
      tls: { caFile: tls.caFile },
      logger: createLogger({ level: 'silent' }),
    });
    await sink.connect();
    expect(sink.connected).toBe(true);
    await sink.close();
  });

  it('never logs the password of a broker URL', async () => {
    const { logger, text } = capturedLogger();
    const url = plain.url.replace('mqtt://', 'mqtt://plant:hunter2-secret@');
    const sink = new MqttDecisionSink({ url, cameraIds: ['cam0'], modelVersion: 'v1', logger });
    await sink.connect();
    await sink.close();
    const nats = new NatsDecisionSink({
      servers: 'nats://tok3n-secret@127.0.0.1:1',
      connectTimeoutMs: 300,
      reconnectTimeWaitMs: 50,
      logger,
    });
    const timeout = await nats.connect().catch((error: unknown) => error);
    await nats.close();
    logger.info({ config: { sinks: { mqtt: { password: 'hunter2-secret' } } } }, 'config');
    expect(text()).toContain('mqtt connected');
    expect(text()).toContain('plant:***@');
    expect(text()).not.toContain('hunter2-secret');
    expect(text()).not.toContain('tok3n-secret');
    expect(String(timeout)).not.toContain('tok3n-secret');
  });

  /** A one-block simulated run publishing to MQTT with `mqtt` settings. */
  function runWith(mqtt: Record<string, unknown>): ReturnType<typeof validateConfig<typeof RunConfigSchema>> {
    const input: RunConfigInput = {
      source: { kind: 'simulated', width: 32, blockRows: 8, maxBlocks: 1 },
      model: { path: resolveDemoModelDir() },
      sinks: { mqtt: { url: plain.url, ...mqtt } },
      metrics: { port: 0, host: '127.0.0.1' },
      viewer: { enabled: false },
    };
    return validateConfig(RunConfigSchema, input, 'test');
  }

  it('the service refuses to start (exit 1) when the broker certificate is not trusted', async () => {
    const start = startService(
      runWith({ url: mqtts.url, tls: { caFile: tls.otherCaFile }, connectTimeoutMs: 600_000 }),
      { logger: createLogger({ level: 'silent' }) },
    );
    await expect(start).rejects.toThrow(SinkTlsError);
  });

  it('reads passwordFile at start, naming the setting when it cannot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cubestream-secret-'));
    try {
      const file = join(dir, 'mqtt-password');
      await writeFile(file, 'from-a-file\n');
      const { logger, text } = capturedLogger();
      const service = await startService(runWith({ username: 'plant', passwordFile: file }), { logger });
      expect((await service.done).code).toBe(0);
      expect(text()).not.toContain('from-a-file');
      await expect(
        startService(runWith({ passwordFile: join(dir, 'missing') }), {
          logger: createLogger({ level: 'silent' }),
        }),
      ).rejects.toThrow(ServiceFileError);
      await expect(
        startService(runWith({ passwordFile: join(dir, 'missing') }), {
          logger: createLogger({ level: 'silent' }),
        }),
      ).rejects.toThrow('sinks.mqtt.passwordFile: cannot read');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a secret given both inline and as a file', () => {
    expect(() => runWith({ password: 'x', passwordFile: '/run/secrets/p' })).toThrow(ConfigError);
    expect(() => runWith({ password: 'x', passwordFile: '/run/secrets/p' })).toThrow(
      'sinks.mqtt.passwordFile: set password or passwordFile, not both',
    );
  });
});
