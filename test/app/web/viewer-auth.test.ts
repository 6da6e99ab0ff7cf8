/**
 * The viewer behind a token, over real loopback HTTP: every route answers 401 without it, the
 * bearer header opens them, and the page's `?token=` sets the session cookie that the assets,
 * the API and the event stream then accept.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VIEWER_COOKIE } from '../../../src/app/web/viewer-auth.js';
import { ViewerHub } from '../../../src/app/web/viewer-hub.js';
import { startViewerServer, type ViewerServer } from '../../../src/app/web/viewer-server.js';
import { openSse } from './sse-reader.js';
import { syntheticBlock } from './synthetic-viewer-stream.js';

const TOKEN = 'viewer-token-0123456789abcdef';
const ROUTES = [
  '/viewer/',
  '/viewer/viewer.js',
  '/viewer/viewer.css',
  '/viewer/cameras',
  '/viewer/snapshot?camera=cam-a',
  '/viewer/events?camera=cam-a',
  '/viewer/nope.js',
];

describe('viewer with a token', () => {
  let hub: ViewerHub;
  let server: ViewerServer;

  async function start(): Promise<ViewerServer> {
    let t = 1_700_000_000_000;
    hub = new ViewerHub({ now: () => (t += 1000) });
    hub.push(syntheticBlock({ index: 0, height: 4, width: 16 }));
    server = await startViewerServer({ port: 0, host: '127.0.0.1', hub, heartbeatMs: 0, token: TOKEN });
    return server;
  }

  afterEach(async () => {
    await server?.close();
    hub?.close();
  });

  it('answers 401 with WWW-Authenticate: Bearer on every route without the token, or with a wrong one', async () => {
    const { url } = await start();
    for (const route of ROUTES) {
      const attempts: Record<string, string>[] = [
        {},
        { authorization: 'Bearer wrong-token-0123456789abcdef' },
        { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
        { cookie: `${VIEWER_COOKIE}=${TOKEN}` },
        { cookie: `${VIEWER_COOKIE}=forged` },
      ];
      for (const headers of attempts) {
        const res = await fetch(`${url}${route}`, { headers, redirect: 'manual' });
        expect(res.status, `${route} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="cubestream viewer"');
        expect(await res.json()).toMatchObject({ error: 'unauthorized' });
      }
    }
    // a wrong ?token= on the page sets nothing
    const wrong = await fetch(`${url}/viewer/?token=not-the-token-at-all`, { redirect: 'manual' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(server.handler.clients).toBe(0);
  });

  it('serves every route to Authorization: Bearer <token>', async () => {
    const { url } = await start();
    const headers = { authorization: `Bearer ${TOKEN}` };
    for (const route of ROUTES.filter((r) => !r.includes('events') && !r.includes('nope'))) {
      const res = await fetch(`${url}${route}`, { headers });
      expect(res.status, route).toBe(200);
      await res.arrayBuffer();
    }
    expect((await fetch(`${url}/viewer/nope.js`, { headers })).status).toBe(404);
    const stream = await openSse(`${url}/viewer/events?camera=cam-a`, headers);
    expect(stream.status).toBe(200);
    expect(JSON.parse((await stream.nextOf('hello')).data)).toMatchObject({ cameraId: 'cam-a' });
    await stream.close();
  });

  it('trades ?token= on the page for an HttpOnly SameSite=Strict cookie and a redirect without the token; the cookie opens the rest', async () => {
    const { url } = await start();
    const entry = await fetch(`${url}/viewer/?token=${TOKEN}&x=1`, { redirect: 'manual' });
    expect(entry.status).toBe(303);
    expect(entry.headers.get('location')).toBe('/viewer/?x=1');
    const setCookie = entry.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(new RegExp(`^${VIEWER_COOKIE}=[A-Za-z0-9_-]{43}; `));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/viewer');
    // the cookie carries a value derived from the token, not the token
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0] as string;

    for (const route of [
      '/viewer/?x=1',
      '/viewer/viewer.js',
      '/viewer/cameras',
      '/viewer/snapshot?camera=cam-a',
    ]) {
      const res = await fetch(`${url}${route}`, { headers: { cookie } });
      expect(res.status, route).toBe(200);
      await res.arrayBuffer();
    }
    const stream = await openSse(`${url}/viewer/events?camera=cam-a`, { cookie: `other=1; ${cookie}` });
    expect(stream.status).toBe(200);
    await stream.nextOf('hello');
    hub.push(syntheticBlock({ index: 1, height: 4, width: 16 }));
    expect(JSON.parse((await stream.nextOf('strip')).data)).toMatchObject({ seq: 2 });
    await stream.close();

    // the bare prefix takes the token too, and then redirects on to the page
    const bare = await fetch(`${url}/viewer?token=${TOKEN}`, { redirect: 'manual' });
    expect(bare.status).toBe(303);
    expect(bare.headers.get('location')).toBe('/viewer');
    // ?token= is only taken by the page: an API call must use the header or the cookie
    expect((await fetch(`${url}/viewer/cameras?token=${TOKEN}`, { redirect: 'manual' })).status).toBe(401);
  });
});
