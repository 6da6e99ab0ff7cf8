import net from 'node:net';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { readiness, startTelemetryServer, type TelemetryServer } from '../../../src/app/http/http-server.js';
import type { HealthCheck } from '../../../src/telemetry/health.js';
import { createMetrics, METRIC_NAMES, METRIC_PREFIX } from '../../../src/telemetry/metrics.js';

describe('startTelemetryServer', () => {
  let server: TelemetryServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves /metrics with every docs/metrics.md name and the exposition content type', async () => {
    const metrics = createMetrics();
    server = await startTelemetryServer({
      port: 0,
      host: '127.0.0.1',
      metrics,
      health: () => ({ checks: [] }),
    });
    expect(server.port).toBeGreaterThan(0);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.registry.contentType);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    for (const name of METRIC_NAMES) expect(text, name).toContain(`${METRIC_PREFIX}${name}`);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('answers /healthz 200 and /readyz 503 until every check passes, then 200', async () => {
    const checks: HealthCheck[] = [
      { name: 'model', ok: false },
      { name: 'sink:mqtt', ok: false, detail: 'disconnected' },
    ];
    server = await startTelemetryServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics({ defaultMetrics: false }),
      health: async () => ({ checks }),
    });
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({
      status: 'not ready',
      checks: { model: { ok: false }, 'sink:mqtt': { ok: false, detail: 'disconnected' } },
    });

    checks[0] = { name: 'model', ok: true };
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    checks[1] = { name: 'sink:mqtt', ok: true };
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe('ready');
  });

  it('returns 404 for unknown paths, 405 for other methods, and lets extra routes answer first', async () => {
    server = await startTelemetryServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics({ defaultMetrics: false }),
      health: () => ({ checks: [] }),
      extraHandler: (req, res) => {
        if (req.url !== '/viewer') return false;
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<h1>viewer</h1>');
        return true;
      },
    });
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
    const viewer = await fetch(`${server.url}/viewer`);
    expect(viewer.status).toBe(200);
    expect(await viewer.text()).toBe('<h1>viewer</h1>');
    // an empty report is ready
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('answers 500 when the health callback throws', async () => {
    server = await startTelemetryServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics({ defaultMetrics: false }),
      health: () => {
        throw new Error('boom');
      },
    });
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'boom' });
  });

  it('binds 127.0.0.1 unless told otherwise, and reports the address bound', async () => {
    server = await startTelemetryServer({
      port: 0,
      metrics: createMetrics({ defaultMetrics: false }),
      health: () => ({ checks: [] }),
    });
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
    if (external !== undefined) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = net.connect(server?.port ?? 0, external.address);
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      expect(outcome).toBe('ECONNREFUSED');
    }
    await server.close();
    server = await startTelemetryServer({
      port: 0,
      host: '0.0.0.0',
      metrics: createMetrics({ defaultMetrics: false }),
      health: () => ({ checks: [] }),
    });
    expect(server.address).toBe(`0.0.0.0:${server.port}`);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('with a token, /metrics needs Authorization: Bearer <token> (401 + WWW-Authenticate otherwise); /healthz and /readyz stay open', async () => {
    const token = 'metrics-token-0123456789abcdef';
    server = await startTelemetryServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics({ defaultMetrics: false }),
      health: () => ({ checks: [{ name: 'model', ok: true }] }),
      token,
    });
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer nope' },
      { authorization: `Bearer ${token}x` },
      { authorization: token },
      { authorization: `Basic ${Buffer.from(`prometheus:${token}`).toString('base64')}` },
    ];
    for (const headers of attempts) {
      const res = await fetch(`${server.url}/metrics`, { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="cubestream metrics"');
      expect(await res.text()).not.toContain('cubestream_');
    }
    const ok = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('cubestream_frames_received_total');
    // the scheme is case-insensitive (RFC 9110)
    expect(
      (await fetch(`${server.url}/metrics`, { headers: { authorization: `bearer ${token}` } })).status,
    ).toBe(200);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('rejects when the port is taken', async () => {
    server = await startTelemetryServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics({ defaultMetrics: false }),
      health: () => ({ checks: [] }),
    });
    await expect(
      startTelemetryServer({
        port: server.port,
        host: '127.0.0.1',
        metrics: createMetrics({ defaultMetrics: false }),
        health: () => ({ checks: [] }),
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('readiness', () => {
  it('is ready only when every check is ok', () => {
    expect(readiness({ checks: [{ name: 'a', ok: true }] }).statusCode).toBe(200);
    expect(
      readiness({
        checks: [
          { name: 'a', ok: true },
          { name: 'b', ok: false },
        ],
      }).statusCode,
    ).toBe(503);
  });
});
