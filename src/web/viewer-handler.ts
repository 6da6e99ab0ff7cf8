/**
 * The viewer's HTTP routes, mountable on any node:http server (e.g. as the telemetry server's
 * `extraHandler`): the page and its assets, the camera list, a snapshot, and the live SSE stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SseStream } from './sse.js';
import { resolveAssetsDir, serveAsset } from './static-assets.js';
import { ViewerOptionError } from './viewer-errors.js';
import type { ViewerHub } from './viewer-hub.js';
import type { CameraSnapshot, ViewerEvent } from './viewer-messages.js';

/** Options of {@link createViewerHandler}. */
export interface ViewerHandlerOptions {
  /** Where the strips and counters come from. */
  hub: ViewerHub;
  /** URL prefix of every route (default `/viewer`). */
  basePath?: string;
  /** Folder of index.html, viewer.js, viewer.css (default: {@link resolveAssetsDir}). */
  assetsDir?: string;
  /** Keep-alive comment interval of the event stream, ms (default 15000). */
  heartbeatMs?: number;
  /** A client further behind than this many bytes misses strips (default 8 MiB). */
  maxBufferedBytes?: number;
  /** Reconnection delay suggested to the browser, ms (default 2000). */
  retryMs?: number;
}

/** The routes as a request handler, plus a way to end the live streams on shutdown. */
export interface ViewerHandler {
  /**
   * Handles a request under `basePath` and returns true (the handler owns the response), or
   * returns false for any other path. Fits `startTelemetryServer({ extraHandler })`.
   */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Open event streams. */
  readonly clients: number;
  /** Ends every event stream (call before closing the HTTP server: open streams keep it alive). */
  close(): void;
}

/** Camera ids as `validateFrame` accepts them, at most 128 characters. */
const CAMERA_ID = /^[^\s/#+*>.]{1,128}$/;

function sendJson(res: ServerResponse, statusCode: number, body: unknown, headOnly = false): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(headOnly ? undefined : text);
}

function emptySnapshot(cameraId: string): Omit<CameraSnapshot, 'status'> & { status: null } {
  return { cameraId, strips: [], series: [], status: null };
}

/**
 * Builds the viewer routes:
 * - `GET <base>/`: the page (`<base>` redirects there);
 * - `GET <base>/viewer.js`, `<base>/viewer.css`, ...: the page's files from `assetsDir`;
 * - `GET <base>/cameras`: `CameraSummary[]` as JSON;
 * - `GET <base>/snapshot?camera=<id>`: a `CameraSnapshot` as JSON (404 for an unknown camera);
 * - `GET <base>/events[?camera=<id>]`: Server-Sent Events: `cameras` (on connect and on every
 *   change), and with a camera: `hello` (its snapshot, on every connect, so a reconnecting page
 *   redraws from it), then `strip` and `status` events as the hub emits them.
 *
 * @throws {@link ViewerOptionError} for a `basePath` that does not start with `/` or ends with one
 * @throws {@link ViewerAssetsNotFoundError} when no assets folder is found
 * @example
 * ```ts
 * const viewer = createViewerHandler({ hub });
 * const telemetry = await startTelemetryServer({ port: 9464, metrics, health, extraHandler: viewer.handle });
 * // on shutdown:
 * viewer.close();
 * await telemetry.close();
 * ```
 */
export function createViewerHandler(options: ViewerHandlerOptions): ViewerHandler {
  const base = options.basePath ?? '/viewer';
  if (!base.startsWith('/') || base.endsWith('/') || base.length < 2)
    throw new ViewerOptionError('basePath', base, 'must start with "/" and not end with "/"');
  const assetsDir = options.assetsDir ?? resolveAssetsDir();
  const hub = options.hub;
  const streams = new Set<SseStream>();

  function openEvents(res: ServerResponse, camera: string | null): void {
    const stream = new SseStream(res, {
      ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
      ...(options.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: options.maxBufferedBytes }),
      ...(options.retryMs === undefined ? {} : { retryMs: options.retryMs }),
    });
    streams.add(stream);
    stream.send({ event: 'cameras', data: JSON.stringify(hub.cameras()) });
    if (camera !== null) {
      const snapshot = hub.snapshot(camera) ?? emptySnapshot(camera);
      stream.send({ event: 'hello', data: JSON.stringify(snapshot) });
    }
    const unsubscribe = hub.subscribe((event: ViewerEvent) => {
      if (event.type === 'cameras') {
        stream.send({ event: 'cameras', data: JSON.stringify(event.cameras) });
      } else if (event.cameraId === camera) {
        if (event.type === 'strip') {
          stream.send(
            { event: 'strip', id: event.strip.seq, data: JSON.stringify(event.strip) },
            { droppable: true },
          );
        } else {
          stream.send({
            event: 'status',
            data: JSON.stringify({ status: event.status, point: event.point }),
          });
        }
      }
    });
    stream.onClose(() => {
      unsubscribe();
      streams.delete(stream);
    });
  }

  function route(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const rest = url.pathname === base ? null : url.pathname.slice(base.length + 1);
    const headOnly = req.method === 'HEAD';
    if (req.method !== 'GET' && !headOnly) {
      res.setHeader('allow', 'GET, HEAD');
      sendJson(res, 405, { error: 'method not allowed', method: req.method });
      return;
    }
    if (rest === null) {
      res.writeHead(308, { location: `${base}/${url.search}` });
      res.end();
      return;
    }
    const camera = url.searchParams.get('camera');
    if (camera !== null && !CAMERA_ID.test(camera)) {
      sendJson(res, 400, {
        error: 'query parameter camera must be 1-128 characters without whitespace or / # + * > .',
        camera,
      });
      return;
    }
    if (rest === 'cameras') {
      sendJson(res, 200, hub.cameras(), headOnly);
    } else if (rest === 'snapshot') {
      const snapshot = camera === null ? undefined : hub.snapshot(camera);
      if (snapshot === undefined) sendJson(res, 404, { error: 'unknown camera', camera }, headOnly);
      else sendJson(res, 200, snapshot, headOnly);
    } else if (rest === 'events') {
      if (headOnly) sendJson(res, 405, { error: 'the event stream answers GET only' }, true);
      else openEvents(res, camera);
    } else {
      const name = rest === '' ? 'index.html' : rest;
      serveAsset(res, assetsDir, name, headOnly)
        .then((served) => {
          if (!served) sendJson(res, 404, { error: 'not found', path: url.pathname }, headOnly);
        })
        .catch((error: unknown) => {
          if (res.headersSent) res.destroy();
          else sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
        });
    }
  }

  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return false;
      route(req, res, url);
      return true;
    },
    get clients() {
      return streams.size;
    },
    close() {
      for (const stream of [...streams]) stream.close();
    },
  };
}
