/**
 * The live viewer in a real browser: Debian's chromium driven by playwright-core, against a
 * real viewer server fed with synthetic decided blocks of two cameras.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViewerHub } from '../../../src/app/web/viewer-hub.js';
import { startViewerServer, type ViewerServer } from '../../../src/app/web/viewer-server.js';
import { syntheticBlock } from './synthetic-viewer-stream.js';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const artifacts = path.join(repoRoot, 'test-artifacts');

/** The injected foreign body of camera cam-a (block rows/columns), in every 5th block. */
const BODY = { x: 52, y: 4, w: 14, h: 8 };
const BOX_RGB = [0, 229, 255];

if (!present) {
  if (process.env.CI === 'true') {
    describe('viewer in chromium', () => {
      it('needs /usr/bin/chromium on CI', () => {
        throw new Error(`${CHROMIUM} is missing: install the Debian package "chromium"`);
      });
    });
  } else {
    console.warn(`viewer-browser tests skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
  }
}

/** What the page exposes as `window.__viewerState` (the fields read here). */
interface PageState {
  camera: string | null;
  cameras: string[];
  connected: boolean;
  stripsShown: number;
  lastSeq: number;
  lastStripCamera: string | null;
  stripWidth: number;
  boxes: {
    canvas: string;
    x: number;
    y: number;
    w: number;
    h: number;
    thickness: number;
    blob: { x: number; w: number; h: number };
  }[];
}

// The browser globals used inside `page.evaluate` callbacks, declared for this module only (the
// project compiles without the DOM lib).
interface PageCanvas {
  readonly width: number;
  readonly height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
declare const document: { getElementById(id: string): unknown; readonly cookie: string };
declare const window: { readonly __viewerState: PageState };

function viewerState(page: Page): Promise<PageState> {
  return page.evaluate(() => window.__viewerState);
}

/** FNV-1a hash of a canvas's pixels, computed in the page. */
function canvasHash(page: Page, id: string): Promise<number> {
  return page.evaluate((canvasId) => {
    const canvas = document.getElementById(canvasId) as PageCanvas;
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let h = 2166136261;
    for (let i = 0; i < px.length; i += 4) {
      h ^= px[i] ?? 0;
      h = Math.imul(h, 16777619);
      h ^= px[i + 1] ?? 0;
      h = Math.imul(h, 16777619);
      h ^= px[i + 2] ?? 0;
      h = Math.imul(h, 16777619);
    }
    return h >>> 0;
  }, id);
}

describe.skipIf(!present)('viewer in chromium', () => {
  let hub: ViewerHub;
  let server: ViewerServer;
  let browser: Browser;
  let feed: NodeJS.Timeout | undefined;
  let index = 0;

  const epoch = Date.now();

  function pushBoth(): void {
    const anomaly = index % 5 === 2 ? BODY : undefined;
    hub.push(syntheticBlock({ cameraId: 'cam-a', index, epoch, anomaly }));
    hub.push(syntheticBlock({ cameraId: 'cam-b', index, epoch, width: 96, tint: -1.5 }));
    index += 1;
  }

  beforeAll(async () => {
    hub = new ViewerHub({ maxUpdatesPerSecond: 50 });
    server = await startViewerServer({ port: 0, host: '127.0.0.1', hub, heartbeatMs: 1000 });
    hub.setStatus('cam-a', { backend: 'onnxruntime-cpu', drops: 2, queueDepth: 1 });
    hub.setStatus('cam-b', { backend: 'wasm', drops: 0, queueDepth: 0 });
    // history before the page connects, then a live feed
    for (let i = 0; i < 24; i++) pushBoth();
    feed = setInterval(pushBoth, 60);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    if (feed !== undefined) clearInterval(feed);
    await browser?.close();
    await server?.close();
    hub?.close();
  });

  it('behind a token: 401 without it; ?token= once sets the cookie the page, its assets and its event stream use', async () => {
    const token = 'browser-token-0123456789abcdef';
    const guarded = await startViewerServer({ port: 0, host: '127.0.0.1', hub, heartbeatMs: 1000, token });
    const page = await browser.newPage();
    try {
      const denied = await page.goto(guarded.pageUrl);
      expect(denied?.status()).toBe(401);
      const entered = await page.goto(`${guarded.pageUrl}?token=${token}#camera=cam-b`);
      expect(entered?.status()).toBe(200);
      // the token left the address bar; the camera choice in the hash stayed
      expect(page.url()).toBe(`${guarded.pageUrl}#camera=cam-b`);
      await page.waitForFunction(() => {
        const s = window.__viewerState as PageState | undefined;
        return s !== undefined && s.camera === 'cam-b' && s.connected && s.stripsShown >= 5;
      });
      // HttpOnly: the page's scripts cannot read the session cookie
      expect(await page.evaluate(() => document.cookie)).toBe('');
    } finally {
      await page.close();
      await guarded.close();
    }
  });

  it('shows two cameras live, draws boxes on anomalies, switches cameras, and stays local', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    page.on('request', (request) => requests.push(request.url()));

    await page.goto(server.pageUrl);
    await page.waitForFunction(() => {
      const s = window.__viewerState as PageState | undefined;
      return s !== undefined && s.camera === 'cam-a' && s.connected && s.stripsShown >= 10;
    });

    // the selector lists both cameras
    expect(await page.$$eval('#camera option', (options) => options.map((o) => o.textContent))).toEqual([
      'cam-a',
      'cam-b',
    ]);
    expect(await page.textContent('#c-backend')).toBe('onnxruntime-cpu');
    expect(await page.textContent('#c-drops')).toBe('2');

    // the waterfalls move
    const before = await viewerState(page);
    const rgb1 = await canvasHash(page, 'rgb');
    const heat1 = await canvasHash(page, 'heat');
    await page.waitForFunction((seq) => window.__viewerState.lastSeq >= seq + 4, before.lastSeq);
    expect(await canvasHash(page, 'rgb')).not.toBe(rgb1);
    expect(await canvasHash(page, 'heat')).not.toBe(heat1);

    // an injected foreign body has a box in the box colour, with the mask tint inside
    await page.waitForFunction(() =>
      window.__viewerState.boxes.some((b) => b.canvas === 'rgb' && b.y > 0 && b.h > 10),
    );
    const probe = await page.evaluate(() => {
      const s = window.__viewerState;
      const box = s.boxes.find((b) => b.canvas === 'rgb' && b.y > 0 && b.h > 10);
      if (box === undefined) return undefined;
      const ctx = (document.getElementById('rgb') as PageCanvas).getContext('2d');
      const at = (x: number, y: number) => Array.from(ctx.getImageData(x, y, 1, 1).data);
      return {
        box,
        edge: at(box.x, box.y + Math.floor(box.h / 2)),
        corner: at(box.x + box.w - 1, box.y + box.h - 1),
        centre: at(box.x + Math.floor(box.w / 2), box.y + Math.floor(box.h / 2)),
        allBlobs: s.boxes.map((b) => b.blob),
      };
    });
    expect(probe).toBeDefined();
    if (probe === undefined) return;
    expect(probe.edge.slice(0, 3)).toEqual(BOX_RGB);
    expect(probe.corner.slice(0, 3)).toEqual(BOX_RGB);
    const [r = 0, g = 0, b = 0] = probe.centre;
    expect(r).toBeGreaterThan(g + 60);
    expect(r).toBeGreaterThan(b + 60);
    for (const blob of probe.allBlobs) expect(blob).toMatchObject({ x: BODY.x, w: BODY.w, h: BODY.h });
    // the box surrounds the blob: 128 columns scaled to the canvas width
    const canvasWidth = await page.$eval('#rgb', (c) => (c as unknown as PageCanvas).width);
    const scale = canvasWidth / 128;
    expect(probe.box.x).toBeLessThanOrEqual(Math.floor(BODY.x * scale));
    expect(probe.box.x + probe.box.w).toBeGreaterThanOrEqual(Math.ceil((BODY.x + BODY.w) * scale));
    expect(probe.box.x).toBeGreaterThan(Math.floor(BODY.x * scale) - 3 * probe.box.thickness);

    // the recent-anomalies list names them
    expect(await page.locator('#anomalies li').count()).toBeGreaterThan(0);
    expect(await page.textContent('#verdict')).toMatch(/ANOMALY|CLEAR/);

    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'viewer.png') });

    // switching to cam-b redraws from its own history
    await page.selectOption('#camera', 'cam-b');
    await page.waitForFunction(() => {
      const s = window.__viewerState;
      return s.camera === 'cam-b' && s.lastStripCamera === 'cam-b' && s.stripsShown >= 10;
    });
    const afterSwitch = await viewerState(page);
    expect(afterSwitch.stripWidth).toBe(96);
    expect(afterSwitch.boxes).toEqual([]);
    expect(await page.textContent('#c-backend')).toBe('wasm');
    expect(page.url()).toContain('#camera=cam-b');
    await page.screenshot({ path: path.join(artifacts, 'viewer-cam-b.png') });

    // a reload keeps the chosen camera (from the URL hash)
    await page.reload();
    await page.waitForFunction(() => {
      const s = window.__viewerState as PageState | undefined;
      return s !== undefined && s.camera === 'cam-b' && s.stripsShown >= 5;
    });

    await page.close();
    expect(consoleErrors).toEqual([]);
    const origin = `${server.url}/`;
    const foreign = requests.filter((url) => !url.startsWith(origin) && !url.startsWith('data:'));
    expect(foreign).toEqual([]);
    expect(requests.some((url) => url.startsWith(`${origin}viewer/events?camera=cam-b`))).toBe(true);
  });
});
