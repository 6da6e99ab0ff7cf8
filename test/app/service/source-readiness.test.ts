/**
 * A camera feed that cannot be reached is visible: /readyz says so, the source_connected gauge
 * is 0, the log says why at warn; once the broker is up, all three turn.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDemoModelDir } from '../../../src/app/service/demo-settings.js';
import { RunConfigSchema } from '../../../src/app/service/run-config.js';
import { startService } from '../../../src/app/service/service.js';
import { validateConfig } from '../../../src/core/validate.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { brokersInstalled, startMosquitto, type TestBroker } from '../../helpers/brokers.js';
import { waitFor } from '../../helpers/mqtt-collector.js';
import { parsePromText, promValue } from './prom-text.js';

const skip = !brokersInstalled && process.env.CI !== 'true';

describe.skipIf(skip)('readiness of a broker source', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startMosquitto();
    await broker.stop();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  it('is not ready while the source cannot reach its broker, and says why; ready once it can', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(
          ...chunk
            .toString()
            .split('\n')
            .filter((l) => l !== ''),
        );
        done();
      },
    });
    const config = validateConfig(
      RunConfigSchema,
      {
        source: { kind: 'mqtt', url: broker.url, cameraIds: ['cam0', 'cam1'] },
        model: { path: resolveDemoModelDir() },
        sinks: {},
        metrics: { port: 0, host: '127.0.0.1' },
        viewer: { enabled: false },
      },
      'test',
    );
    const service = await startService(config, { logger: createLogger({ level: 'info', destination }) });
    try {
      const ready = async () => {
        const response = await fetch(`${service.telemetryUrl}/readyz`);
        return {
          status: response.status,
          body: (await response.json()) as { checks: Record<string, unknown> },
        };
      };
      const connected = async (camera: string) =>
        promValue(
          parsePromText(await (await fetch(`${service.telemetryUrl}/metrics`)).text()),
          'cubestream_source_connected',
          { camera },
        );
      await waitFor(() => service.sourceState === 'disconnected', 'source disconnected');
      const down = await ready();
      expect(down.status).toBe(503);
      expect(down.body.checks.source).toEqual({ ok: false, detail: 'disconnected' });
      expect([await connected('cam0'), await connected('cam1')]).toEqual([0, 0]);
      const warning = lines
        .map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message: string } })
        .find((l) => l.msg === 'source cannot reach its broker; retrying');
      expect(warning?.level).toBe(40);
      expect(warning?.err?.message).toContain('ECONNREFUSED');

      await broker.start();
      await waitFor(() => service.sourceState === 'running', 'source running', 60_000);
      const up = await ready();
      expect(up.status).toBe(200);
      expect([await connected('cam0'), await connected('cam1')]).toEqual([1, 1]);
    } finally {
      await service.stop('test');
    }
  });
});
