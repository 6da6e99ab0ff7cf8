/**
 * The service's HTTP endpoints as configured: loopback by default with the bound addresses
 * logged, bearer tokens for /metrics and the viewer (inline or from a file), and clear start
 * errors for a token file that cannot be used.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveDemoModelDir } from '../../../src/app/service/demo-settings.js';
import { type RunConfig, type RunConfigInput, RunConfigSchema } from '../../../src/app/service/run-config.js';
import { type RunningService, startService } from '../../../src/app/service/service.js';
import { AuthTokenError, ServiceFileError } from '../../../src/app/service/service-errors.js';
import { validateConfig } from '../../../src/core/validate.js';
import { createLogger } from '../../../src/telemetry/logger.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const VIEWER_TOKEN = 'viewer-token-0123456789abcdef';

describe('service HTTP endpoints', () => {
  let dir: string;
  let service: RunningService | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cubestream-service-http-'));
  });
  afterEach(async () => {
    await service?.stop('test over');
    service = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  /** A small paced simulated camera; `metrics` and `viewer` as given (ports 0, hosts default). */
  function config(extra: Pick<RunConfigInput, 'metrics' | 'viewer'>): RunConfig {
    return validateConfig(
      RunConfigSchema,
      {
        source: { kind: 'simulated', width: 32, blockRows: 8, seed: 3, linesPerSecond: 160 },
        model: { path: resolveDemoModelDir() },
        sinks: { file: { path: join(dir, 'decisions.jsonl') } },
        ...extra,
      },
      'test',
    );
  }

  function capture(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          callback();
        },
      }),
    });
    return { logger, lines };
  }

  it('binds both servers to 127.0.0.1 by default and logs the addresses actually bound', async () => {
    const { logger, lines } = capture();
    service = await startService(config({ metrics: { port: 0 }, viewer: { port: 0 } }), { logger });
    expect(service.telemetryAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(service.viewerAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const listening = lines.find((line) => String(line.msg).startsWith('telemetry listening'));
    expect(listening).toMatchObject({
      listen: service.telemetryAddress,
      viewerListen: service.viewerAddress,
      metricsAuth: false,
      viewerAuth: false,
    });
    expect(listening?.msg).toBe(
      `telemetry listening on ${service.telemetryAddress}, viewer on ${service.viewerAddress}`,
    );
    expect(service.metricsAuth).toBe(false);
    expect((await fetch(`${service.telemetryUrl}/metrics`)).status).toBe(200);
  });

  it('requires the metrics token (read from a file, trimmed) on /metrics and the viewer token on the viewer; probes stay open', async () => {
    const tokenFile = join(dir, 'metrics-token');
    await writeFile(tokenFile, `  ${METRICS_TOKEN}\n`);
    service = await startService(
      config({
        metrics: { port: 0, auth: { tokenFile } },
        viewer: { port: 0, auth: { token: VIEWER_TOKEN } },
      }),
      { logger: createLogger({ level: 'silent' }) },
    );
    expect(service.metricsAuth).toBe(true);
    expect(service.viewerAuth).toBe(true);
    const metricsUrl = `${service.telemetryUrl}/metrics`;
    const denied = await fetch(metricsUrl);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await fetch(metricsUrl, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } })).status).toBe(
      401,
    );
    expect((await fetch(metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(
      200,
    );
    expect((await fetch(`${service.telemetryUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${service.telemetryUrl}/readyz`)).status).not.toBe(401);

    const page = service.viewerUrl ?? '';
    expect((await fetch(page)).status).toBe(401);
    expect(
      (await fetch(new URL('cameras', page), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }))
        .status,
    ).toBe(401);
    expect(
      (await fetch(new URL('cameras', page), { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } }))
        .status,
    ).toBe(200);
    const entry = await fetch(`${page}?token=${VIEWER_TOKEN}`, { redirect: 'manual' });
    expect(entry.status).toBe(303);
    const cookie = (entry.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect((await fetch(page, { headers: { cookie } })).status).toBe(200);
  });

  it('refuses to start when a token file cannot be read, naming its YAML path', async () => {
    const missing = join(dir, 'no-such-token');
    const start = startService(
      config({ metrics: { port: 0, auth: { tokenFile: missing } }, viewer: { enabled: false } }),
      { logger: createLogger({ level: 'silent' }) },
    );
    await expect(start).rejects.toThrow(ServiceFileError);
    await expect(start).rejects.toThrow(`metrics.auth.tokenFile: cannot read ${missing}`);
  });

  it('refuses to start with an empty or short token file (an unfilled secret), naming its YAML path', async () => {
    const tokenFile = join(dir, 'viewer-token');
    const start = () =>
      startService(config({ metrics: { port: 0 }, viewer: { port: 0, auth: { tokenFile } } }), {
        logger: createLogger({ level: 'silent' }),
      });
    await writeFile(tokenFile, '\n');
    await expect(start()).rejects.toThrow(ServiceFileError);
    await expect(start()).rejects.toThrow(/^viewer\.auth\.tokenFile: .*empty/);
    await writeFile(tokenFile, 'REPLACE_ME\n');
    await expect(start()).rejects.toThrow(AuthTokenError);
    await expect(start()).rejects.toThrow(/^viewer\.auth\.tokenFile: .* 10 characters; at least 16/);
  });
});
