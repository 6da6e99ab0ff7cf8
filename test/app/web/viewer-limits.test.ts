/**
 * The viewer's limits over real loopback HTTP: the cap on event streams (503 + Retry-After), the
 * bounded snapshot, a stalled client's byte budget (dropped strips, then cut off), the
 * connection cap, and the loopback default bind.
 */
import net from 'node:net';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { createViewerHandler } from '../../../src/app/web/viewer-handler.js';
import { ViewerHub } from '../../../src/app/web/viewer-hub.js';
import { snapshotJson } from '../../../src/app/web/viewer-json.js';
import type { CameraSnapshot } from '../../../src/app/web/viewer-messages.js';
import {
  startViewerServer,
  type ViewerServer,
  type ViewerServerOptions,
} from '../../../src/app/web/viewer-server.js';
import { OptionError } from '../../../src/core/options.js';
import { waitFor } from '../../helpers/mqtt-collector.js';
import { readHead, stalledGet } from '../../helpers/raw-http.js';
import { openSse, type SseConnection } from './sse-reader.js';
import { syntheticBlock } from './synthetic-viewer-stream.js';

describe('viewer limits', () => {
  let hub: ViewerHub;
  let server: ViewerServer | undefined;
  const connections: SseConnection[] = [];
  const sockets: net.Socket[] = [];

  async function start(options: Partial<ViewerServerOptions> = {}): Promise<ViewerServer> {
    // a clock that moves one second per reading: every block is rendered, whatever the real pace
    let t = 1_700_000_000_000;
    hub = new ViewerHub({ now: () => (t += 1000) });
    server = await startViewerServer({ port: 0, host: '127.0.0.1', hub, heartbeatMs: 0, ...options });
    return server;
  }

  async function sse(url: string): Promise<SseConnection> {
    const connection = await openSse(url);
    connections.push(connection);
    return connection;
  }

  afterEach(async () => {
    for (const c of connections.splice(0)) await c.close();
    for (const s of sockets.splice(0)) s.destroy();
    await server?.close();
    server = undefined;
    hub.close();
  });

  it('refuses event streams beyond maxClients with 503 and Retry-After, counts them, and admits again once one leaves', async () => {
    const { url } = await start({ maxClients: 2, retryAfterSeconds: 7 });
    const events = `${url}/viewer/events?camera=cam-a`;
    const first = await sse(events);
    await first.nextOf('hello');
    await (await sse(events)).nextOf('hello');
    const refused = await fetch(events);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('7');
    expect(refused.headers.get('connection')).toBe('close');
    expect(await refused.json()).toMatchObject({ maxClients: 2 });
    expect(server?.handler.stats()).toMatchObject({ clients: 2, refused: 1 });
    // the page and the API still answer while the streams are full
    expect((await fetch(`${url}/viewer/cameras`)).status).toBe(200);

    await first.close();
    await waitFor(() => server?.handler.clients === 1, 'the first stream to be gone');
    const again = await sse(events);
    expect(again.status).toBe(200);
    await again.nextOf('hello');
  });

  it('greets a client with the newest snapshotStrips strips only, and /snapshot likewise', async () => {
    const { url } = await start({ snapshotStrips: 5 });
    for (let i = 0; i < 30; i++) hub.push(syntheticBlock({ index: i, height: 4, width: 16 }));
    expect(hub.snapshot('cam-a')?.strips).toHaveLength(30);
    const stream = await sse(`${url}/viewer/events?camera=cam-a`);
    const hello = JSON.parse((await stream.nextOf('hello')).data) as CameraSnapshot;
    expect(hello.strips.map((s) => s.seq)).toEqual([26, 27, 28, 29, 30]);
    expect(hello.status.blocks).toBe(30);
    const snapshot = (await (await fetch(`${url}/viewer/snapshot?camera=cam-a`)).json()) as CameraSnapshot;
    expect(snapshot.strips.map((s) => s.seq)).toEqual([26, 27, 28, 29, 30]);
  });

  it('keeps the snapshot within snapshotBytes, leaving out the oldest strips', async () => {
    await start({ snapshotStrips: 48 });
    for (let i = 0; i < 30; i++) hub.push(syntheticBlock({ index: i, height: 8, width: 64 }));
    const full = hub.snapshot('cam-a') as CameraSnapshot;
    const unbounded = snapshotJson(full, { maxStrips: 48, maxBytes: Number.MAX_SAFE_INTEGER });
    expect(JSON.parse(unbounded)).toEqual(full);
    const maxBytes = Math.floor(Buffer.byteLength(unbounded) / 3);
    await server?.close();
    server = await startViewerServer({
      port: 0,
      host: '127.0.0.1',
      hub,
      heartbeatMs: 0,
      snapshotBytes: maxBytes,
    });
    const stream = await sse(`${server.url}/viewer/events?camera=cam-a`);
    const data = (await stream.nextOf('hello')).data;
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(maxBytes);
    const hello = JSON.parse(data) as CameraSnapshot;
    const seqs = hello.strips.map((s) => s.seq);
    expect(seqs.length).toBeGreaterThan(0);
    expect(seqs.length).toBeLessThan(30);
    expect(seqs.at(-1)).toBe(30);
    expect(seqs).toEqual(seqs.map((_, i) => 31 - seqs.length + i));
    expect(hello.series).toEqual(full.series);
  });

  it('drops strips for a client that stops reading, counts them, then cuts it off', async () => {
    const budget = 512 * 1024;
    const { port } = await start({ maxBufferedBytes: budget, snapshotBytes: budget, maxDroppedInARow: 3 });
    const client = stalledGet(port, '/viewer/events?camera=cam-a');
    sockets.push(client.socket);
    expect(await client.sent).toBe(true);
    await waitFor(() => server?.handler.clients === 1, 'the stream to open');
    // 640 x 64 strips of about 250 kB: the kernel's socket buffers fill first, then the budget
    for (let i = 0; i < 400 && server?.handler.stats().cutOff === 0; i++) {
      hub.push(syntheticBlock({ index: i, height: 64, width: 640 }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(server?.handler.stats()).toMatchObject({ clients: 0, cutOff: 1 });
    expect(server?.handler.stats().droppedUpdates).toBeGreaterThanOrEqual(3);
  });

  it('closes connections beyond maxConnections at once', async () => {
    const { port } = await start({ maxConnections: 3 });
    const held = [0, 1, 2].map(() => stalledGet(port, '/viewer/events?camera=cam-a'));
    sockets.push(...held.map((c) => c.socket));
    await waitFor(() => server?.handler.clients === 3, 'three streams');
    const extra = stalledGet(port, '/viewer/cameras');
    sockets.push(extra.socket);
    expect((await readHead(extra.socket)).status).toBe(0);
    for (const c of held) expect((await readHead(c.socket)).status).toBe(200);
  });

  it('rejects limits out of range, naming the option', () => {
    hub = new ViewerHub();
    expect(() => createViewerHandler({ hub, maxClients: 0 })).toThrow(/maxClients = 0/);
    expect(() => createViewerHandler({ hub, maxBufferedBytes: 1024, snapshotBytes: 2048 })).toThrow(
      OptionError,
    );
    expect(() => createViewerHandler({ hub, snapshotStrips: 1.5 })).toThrow(/snapshotStrips/);
  });

  it('binds 127.0.0.1 unless told otherwise, and reports the address bound', async () => {
    let t = 0;
    hub = new ViewerHub({ now: () => (t += 1000) });
    server = await startViewerServer({ port: 0, hub, heartbeatMs: 0 });
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
    if (external !== undefined) {
      const refused = await new Promise<string>((resolve) => {
        const socket = net.connect(server?.port ?? 0, external.address);
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');
    }
  });
});
