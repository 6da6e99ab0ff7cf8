import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetryServer } from '../../../src/app/http/http-server.js';
import { assetContentType, resolveAssetsDir, VIEWER_CSP } from '../../../src/app/web/static-assets.js';
import { ViewerAssetsNotFoundError } from '../../../src/app/web/viewer-errors.js';
import { createViewerHandler } from '../../../src/app/web/viewer-handler.js';
import { ViewerHub } from '../../../src/app/web/viewer-hub.js';
import type { CameraSnapshot, CameraSummary, ViewerStrip } from '../../../src/app/web/viewer-messages.js';
import { startViewerServer, type ViewerServer } from '../../../src/app/web/viewer-server.js';
import { OptionError } from '../../../src/core/options.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { openSse, type SseConnection } from './sse-reader.js';
import { syntheticBlock } from './synthetic-viewer-stream.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const assetsDir = path.join(repoRoot, 'src/app/web/assets');

describe('viewer HTTP routes', () => {
  let hub: ViewerHub;
  let server: ViewerServer | undefined;
  const connections: SseConnection[] = [];

  async function start(): Promise<ViewerServer> {
    // a clock that moves one second per reading: every block is rendered, whatever the real pace
    let t = 1_700_000_000_000;
    hub = new ViewerHub({ now: () => (t += 1000) });
    server = await startViewerServer({ port: 0, host: '127.0.0.1', hub, heartbeatMs: 0 });
    return server;
  }

  async function sse(url: string): Promise<SseConnection> {
    const connection = await openSse(url);
    connections.push(connection);
    return connection;
  }

  afterEach(async () => {
    for (const c of connections.splice(0)) await c.close();
    await server?.close();
    server = undefined;
    hub.close();
  });

  it('serves the page and its files with their content types and a same-origin CSP', async () => {
    const { url, pageUrl } = await start();
    expect(pageUrl).toBe(`${url}/viewer/`);
    const page = await fetch(pageUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(VIEWER_CSP);
    const html = await page.text();
    expect(html).toContain('<canvas id="rgb"');
    expect(html).toContain('src="viewer.js"');
    for (const [name, type] of [
      ['viewer.js', 'text/javascript; charset=utf-8'],
      ['viewer.css', 'text/css; charset=utf-8'],
    ] as const) {
      const res = await fetch(`${url}/viewer/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(await res.text()).toBe(await readFile(path.join(assetsDir, name), 'utf8'));
    }
    const head = await fetch(`${url}/viewer/viewer.css`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('redirects to the page, answers 404, 405 and 400 where due, and never serves files outside the assets', async () => {
    const { url } = await start();
    const bare = await fetch(`${url}/viewer`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/viewer/');
    const root = await fetch(`${url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/viewer/');
    for (const bad of [
      '/viewer/nope.js',
      '/viewer/..%2fviewer-hub.ts',
      '/viewer/assets/index.html',
      '/elsewhere',
    ]) {
      expect((await fetch(`${url}${bad}`)).status, bad).toBe(404);
    }
    const post = await fetch(`${url}/viewer/cameras`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const badCamera = await fetch(`${url}/viewer/events?camera=${encodeURIComponent('a/b')}`);
    expect(badCamera.status).toBe(400);
    expect(await badCamera.json()).toMatchObject({ camera: 'a/b' });
  });

  it('lists cameras and serves a snapshot per camera', async () => {
    const { url } = await start();
    expect(await (await fetch(`${url}/viewer/cameras`)).json()).toEqual([]);
    for (let i = 0; i < 3; i++)
      hub.push(syntheticBlock({ cameraId: 'line-2', index: i, height: 4, width: 16 }));
    hub.push(syntheticBlock({ cameraId: 'line-1', index: 0, height: 4, width: 8 }));
    const cameras = (await (await fetch(`${url}/viewer/cameras`)).json()) as CameraSummary[];
    expect(cameras.map((c) => [c.cameraId, c.blocks, c.width])).toEqual([
      ['line-1', 1, 8],
      ['line-2', 3, 16],
    ]);
    const snapshot = (await (await fetch(`${url}/viewer/snapshot?camera=line-2`)).json()) as CameraSnapshot;
    expect(snapshot.strips.map((s) => s.seq)).toEqual([1, 2, 3]);
    expect(snapshot.status.blocks).toBe(3);
    expect((await fetch(`${url}/viewer/snapshot?camera=line-9`)).status).toBe(404);
  });

  it('streams cameras, the history on connect, then live strips and status; a reconnect gets the history again', async () => {
    const { url } = await start();
    for (let i = 0; i < 2; i++) hub.push(syntheticBlock({ index: i, height: 4, width: 16 }));
    const first = await sse(`${url}/viewer/events?camera=cam-a`);
    expect(first.status).toBe(200);
    expect(first.contentType).toBe('text/event-stream; charset=utf-8');
    const cameras = await first.next();
    expect(cameras.event).toBe('cameras');
    expect((JSON.parse(cameras.data) as CameraSummary[]).map((c) => c.cameraId)).toEqual(['cam-a']);
    const hello = await first.next();
    expect(hello.event).toBe('hello');
    expect((JSON.parse(hello.data) as CameraSnapshot).strips.map((s) => s.seq)).toEqual([1, 2]);

    hub.push(syntheticBlock({ index: 2, height: 4, width: 16, anomaly: { x: 3, y: 1, w: 2, h: 2 } }));
    const strip = await first.nextOf('strip');
    expect(strip.id).toBe('3');
    const body = JSON.parse(strip.data) as ViewerStrip;
    expect(body).toMatchObject({ seq: 3, cameraId: 'cam-a', anomalous: true, rowOffset: 8 });
    expect(body.blobs).toEqual([expect.objectContaining({ x: 3, y: 9, w: 2, h: 2 })]);
    const status = JSON.parse((await first.nextOf('status')).data) as { status: { blocks: number } };
    expect(status.status.blocks).toBeGreaterThanOrEqual(1);

    // a new camera is announced to every stream; its strips are not sent on this one
    hub.push(syntheticBlock({ cameraId: 'cam-b', index: 0, height: 4, width: 16 }));
    const announced = await first.nextOf('cameras');
    expect((JSON.parse(announced.data) as CameraSummary[]).map((c) => c.cameraId)).toEqual([
      'cam-a',
      'cam-b',
    ]);
    hub.push(syntheticBlock({ index: 3, height: 4, width: 16 }));
    expect(JSON.parse((await first.nextOf('strip')).data)).toMatchObject({ cameraId: 'cam-a', seq: 4 });

    const again = await sse(`${url}/viewer/events?camera=cam-a`);
    const helloAgain = JSON.parse((await again.nextOf('hello')).data) as CameraSnapshot;
    expect(helloAgain.strips.map((s) => s.seq)).toEqual([1, 2, 3, 4]);
  });

  it('greets a camera not seen yet with an empty snapshot and streams it once it appears', async () => {
    const { url } = await start();
    const stream = await sse(`${url}/viewer/events?camera=later`);
    expect(JSON.parse((await stream.nextOf('hello')).data)).toEqual({
      cameraId: 'later',
      strips: [],
      series: [],
      status: null,
    });
    hub.push(syntheticBlock({ cameraId: 'later', index: 0, height: 4, width: 8 }));
    expect(JSON.parse((await stream.nextOf('strip')).data)).toMatchObject({ cameraId: 'later', seq: 1 });
  });

  it('ends open event streams on close, so the server stops promptly', async () => {
    const { url } = await start();
    const stream = await sse(`${url}/viewer/events`);
    await stream.nextOf('cameras');
    const closing = server?.close();
    server = undefined;
    expect(await stream.ended()).toBe(true);
    await closing;
  });
});

describe('createViewerHandler mounted on the telemetry server', () => {
  it('answers the viewer routes beside /metrics, and its close() ends the streams', async () => {
    const hub = new ViewerHub();
    const viewer = createViewerHandler({ hub, heartbeatMs: 0 });
    const telemetry = await startTelemetryServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics({ defaultMetrics: false }),
      health: () => ({ checks: [] }),
      extraHandler: viewer.handle,
    });
    try {
      hub.push(syntheticBlock({ index: 0, height: 4, width: 8 }));
      const cameras = (await (await fetch(`${telemetry.url}/viewer/cameras`)).json()) as CameraSummary[];
      expect(cameras.map((c) => c.cameraId)).toEqual(['cam-a']);
      expect((await fetch(`${telemetry.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${telemetry.url}/viewer/`)).headers.get('content-type')).toContain('text/html');
      const stream = await openSse(`${telemetry.url}/viewer/events?camera=cam-a`);
      await stream.nextOf('hello');
      expect(viewer.clients).toBe(1);
      viewer.close();
      expect(await stream.ended()).toBe(true);
      expect(viewer.clients).toBe(0);
    } finally {
      await telemetry.close();
      hub.close();
    }
  });

  it('rejects a malformed basePath', () => {
    const hub = new ViewerHub();
    expect(() => createViewerHandler({ hub, basePath: 'viewer' })).toThrow(OptionError);
    expect(() => createViewerHandler({ hub, basePath: '/viewer/' })).toThrow(/basePath/);
    hub.close();
  });
});

describe('viewer assets', () => {
  it('are found from src/app/web and from a compiled dist/src/app/web', () => {
    expect(resolveAssetsDir()).toBe(assetsDir);
    expect(resolveAssetsDir(path.join(repoRoot, 'src/app/web'))).toBe(assetsDir);
    expect(resolveAssetsDir(path.join(repoRoot, 'dist/src/app/web'))).toBe(assetsDir);
  });

  it('prefer a copy next to the module, and name the folders tried when missing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'viewer-assets-'));
    try {
      const moduleDir = path.join(dir, 'a/b/c');
      expect(() => resolveAssetsDir(moduleDir)).toThrow(ViewerAssetsNotFoundError);
      expect(() => resolveAssetsDir(moduleDir)).toThrow(path.join(moduleDir, 'assets'));
      await mkdir(path.join(moduleDir, 'assets'), { recursive: true });
      await writeFile(path.join(moduleDir, 'assets', 'index.html'), '<!doctype html>');
      expect(resolveAssetsDir(moduleDir)).toBe(path.join(moduleDir, 'assets'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reference nothing outside the service', async () => {
    for (const name of ['index.html', 'viewer.js', 'viewer.css']) {
      const text = await readFile(path.join(assetsDir, name), 'utf8');
      expect(text, name).not.toMatch(/https?:\/\//);
      expect(text, name).not.toMatch(/(src|href)\s*=\s*["']\/\//);
      expect(text, name).not.toMatch(/@import|url\(/);
    }
  });

  it('have content types only for servable names', () => {
    expect(assetContentType('viewer.js')).toBe('text/javascript; charset=utf-8');
    expect(assetContentType('index.html')).toBe('text/html; charset=utf-8');
    expect(assetContentType('../secret.js')).toBeUndefined();
    expect(assetContentType('viewer-hub.ts')).toBeUndefined();
    expect(assetContentType('.hidden.css')).toBeUndefined();
  });
});
