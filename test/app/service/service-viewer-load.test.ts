/**
 * A running service under a viewer flood: 4 reading clients and 1,000 raw TCP clients that send
 * `GET /viewer/events` and never read. Decisions must keep coming, `/metrics` must answer, the
 * clients beyond `viewer.maxClients` must be refused (503 + Retry-After) or closed at the
 * connection cap, and the heap must stay bounded.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveDemoModelDir } from '../../../src/app/service/demo-settings.js';
import { RunConfigSchema } from '../../../src/app/service/run-config.js';
import { type RunningService, startService } from '../../../src/app/service/service.js';
import { DEFAULT_VIEWER_LIMITS } from '../../../src/app/web/viewer-limits.js';
import { validateConfig } from '../../../src/core/validate.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { waitFor } from '../../helpers/mqtt-collector.js';
import { type ResponseHead, readHead, stalledGet } from '../../helpers/raw-http.js';
import { openSse, type SseConnection } from '../web/sse-reader.js';
import { parsePromText, promValue } from './prom-text.js';

const READERS = 4;
const STALLED = 1_000;
/** Clients opened at once (the rest wait): keeps the accept queue and the test's own load bounded. */
const BATCH = 100;
/** Decisions that must be made while every client is connected. */
const DECISIONS_DURING_FLOOD = 20;
/** Heap growth allowed over the flood (the old code held a snapshot string per client). */
const HEAP_BOUND_BYTES = 150 * 1024 * 1024;

describe('service under a viewer flood', () => {
  let dir: string;
  let service: RunningService | undefined;
  const readers: SseConnection[] = [];
  const sockets: net.Socket[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cubestream-viewer-load-'));
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const reader of readers.splice(0)) await reader.close();
    await service?.stop('test over');
    service = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps deciding and serving /metrics with 1,000 stalled viewer clients, refuses the excess, and bounds the heap', async () => {
    const logLines: string[] = [];
    const logger = createLogger({
      level: 'warn',
      destination: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          logLines.push(chunk.toString());
          callback();
        },
      }),
    });
    let decisions = 0;
    service = await startService(
      validateConfig(
        RunConfigSchema,
        {
          source: {
            kind: 'simulated',
            width: 128,
            blockRows: 8,
            seed: 3,
            anomalyRate: 0.2,
            linesPerSecond: 160,
          },
          model: { path: resolveDemoModelDir() },
          sinks: { file: { path: join(dir, 'decisions.jsonl') } },
          metrics: { port: 0, host: '127.0.0.1' },
          viewer: { enabled: true, port: 0, host: '127.0.0.1' },
        },
        'viewer load test',
      ),
      {
        logger,
        onDecision: () => {
          decisions += 1;
        },
      },
    );
    const running = service;
    const viewerUrl = running.viewerUrl ?? '';
    const viewerPort = Number(new URL(viewerUrl).port);
    await waitFor(() => decisions >= 5, 'five decisions', 30_000);
    const events = new URL('events?camera=cam0', viewerUrl).href;
    for (let i = 0; i < READERS; i++) readers.push(await openSse(events));
    for (const reader of readers) await reader.nextOf('hello');
    const heapBefore = process.memoryUsage().heapUsed;

    const stalled = [];
    for (let start = 0; start < STALLED; start += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, STALLED - start) }, () =>
        stalledGet(viewerPort, '/viewer/events?camera=cam0'),
      );
      sockets.push(...batch.map((client) => client.socket));
      stalled.push(...batch);
      await Promise.all(batch.map((client) => client.sent));
    }

    // while every socket is open: decisions go on, readers get strips, /metrics answers
    const atFlood = decisions;
    await waitFor(
      () => decisions >= atFlood + DECISIONS_DURING_FLOOD,
      `${DECISIONS_DURING_FLOOD} decisions during the flood`,
      60_000,
    );
    for (const reader of readers) await reader.nextOf('strip');
    const metrics = await fetch(`${running.telemetryUrl}/metrics`);
    expect(metrics.status).toBe(200);
    const samples = parsePromText(await metrics.text());
    expect(promValue(samples, 'cubestream_viewer_clients')).toBe(DEFAULT_VIEWER_LIMITS.maxClients);
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;

    const heads: ResponseHead[] = [];
    for (const client of stalled) heads.push(await readHead(client.socket));
    const byStatus = (status: number) => heads.filter((h) => h.status === status).length;
    const admitted = byStatus(200);
    const refused = byStatus(503);
    const closedAtCap = byStatus(0);
    console.info(
      `viewer flood: ${admitted} admitted, ${refused} refused (503), ${closedAtCap} closed at the connection cap; ` +
        `heap growth ${(heapGrowth / 1024 / 1024).toFixed(1)} MiB; ${decisions - atFlood} decisions meanwhile`,
    );
    expect(admitted).toBe(DEFAULT_VIEWER_LIMITS.maxClients - READERS);
    expect(refused).toBeGreaterThan(0);
    expect(admitted + refused + closedAtCap).toBe(STALLED);
    for (const head of heads.filter((h) => h.status === 503)) expect(head.head).toContain('retry-after: ');
    expect(promValue(samples, 'cubestream_viewer_clients_refused_total')).toBeLessThanOrEqual(refused);
    const after = parsePromText(await (await fetch(`${running.telemetryUrl}/metrics`)).text());
    expect(promValue(after, 'cubestream_viewer_clients_refused_total')).toBe(refused);
    expect(heapGrowth).toBeLessThan(HEAP_BOUND_BYTES);
    // logged, but not once per refused client
    const refusedLines = logLines.filter((line) => line.includes('viewer client refused'));
    expect(refusedLines.length).toBeGreaterThan(0);
    expect(refusedLines.length).toBeLessThan(10);
  }, 180_000);
});
