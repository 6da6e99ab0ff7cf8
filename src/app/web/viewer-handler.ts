/**
 * The viewer's HTTP routes, mountable on any node:http server (e.g. as the telemetry server's
 * `extraHandler`): the page and its assets, the camera list, a snapshot, and the live SSE stream.
 * Bounded: at most `maxClients` event streams (503 with `Retry-After` beyond), a byte budget per
 * client, and snapshots of bounded size. Optionally behind a token (see `ViewerAuth`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OptionError } from '../../core/options.js';
import { SseStream } from './sse.js';
import { resolveAssetsDir, serveAsset } from './static-assets.js';
import { ViewerAuth } from './viewer-auth.js';
import { ViewerFeed } from './viewer-feed.js';
import type { ViewerHub } from './viewer-hub.js';
import { snapshotJson } from './viewer-json.js';
import { DEFAULT_VIEWER_LIMITS } from './viewer-limits.js';

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
  /**
   * A client's byte budget: with more unsent bytes than this it misses strips, and it is
   * disconnected beyond twice this (default `DEFAULT_VIEWER_LIMITS.clientBufferBytes`, 4 MiB).
   */
  maxBufferedBytes?: number;
  /** Strips a client may miss in a row before it is disconnected (default 50). */
  maxDroppedInARow?: number;
  /** Open event streams at most; more get 503 with `Retry-After` (default 32). */
  maxClients?: number;
  /** Newest strips in a snapshot (`hello` event, `/snapshot`) at most (default 24). */
  snapshotStrips?: number;
  /** Bytes of a snapshot's JSON at most; at most `maxBufferedBytes` (default 2 MiB). */
  snapshotBytes?: number;
  /** `Retry-After` of a refused event stream, seconds (default 10). */
  retryAfterSeconds?: number;
  /** Reconnection delay suggested to the browser, ms (default 2000). */
  retryMs?: number;
  /** Token every route requires (header, or the cookie the page sets from `?token=`); default: open. */
  token?: string;
  /** Told when an event stream is refused (over `maxClients`) or cut off as too slow. */
  onClientEvent?: (kind: 'refused' | 'cut-off', stats: ViewerHandlerStats) => void;
}

/** Counters of the viewer routes since they were created. */
export interface ViewerHandlerStats {
  /** Open event streams. */
  readonly clients: number;
  /** Event streams refused with 503 because `maxClients` were open. */
  readonly refused: number;
  /** Event streams disconnected because the client read too slowly. */
  readonly cutOff: number;
  /** Strips not sent to a client that was over its byte budget. */
  readonly droppedUpdates: number;
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
  /** Counters: open, refused and cut-off streams, dropped strips. */
  stats(): ViewerHandlerStats;
  /** Ends every event stream (call before closing the HTTP server: open streams keep it alive). */
  close(): void;
}

function positiveInt(option: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1)
    throw new OptionError('viewer', option, v, 'must be a positive integer');
  return v;
}

/** Camera ids as `validateFrame` accepts them, at most 128 characters. */
const CAMERA_ID = /^[^\s/#+*>.]{1,128}$/;

function sendJson(res: ServerResponse, statusCode: number, body: unknown, headOnly = false): void {
  sendJsonText(res, statusCode, JSON.stringify(body), headOnly);
}

function sendJsonText(res: ServerResponse, statusCode: number, text: string, headOnly = false): void {
  res.writeHead(statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(headOnly ? undefined : text);
}

/**
 * Builds the viewer routes:
 * - `GET <base>/`: the page (`<base>` redirects there);
 * - `GET <base>/viewer.js`, `<base>/viewer.css`, ...: the page's files from `assetsDir`;
 * - `GET <base>/cameras`: `CameraSummary[]` as JSON;
 * - `GET <base>/snapshot?camera=<id>`: a `CameraSnapshot` as JSON (404 for an unknown camera),
 *   with at most `snapshotStrips` strips in at most `snapshotBytes` bytes;
 * - `GET <base>/events[?camera=<id>]`: Server-Sent Events: `cameras` (on connect and on every
 *   change), and with a camera: `hello` (its bounded snapshot, on every connect, so a
 *   reconnecting page redraws from it), then `strip` and `status` events as the hub emits them.
 *   Beyond `maxClients` open streams: 503 with `Retry-After`.
 *
 * With a `token`, every route answers 401 unless the request carries it (see `ViewerAuth`).
 *
 * @throws {@link OptionError} for a `basePath` that does not start with `/` or ends with
 *   one, a limit that is not a positive integer, or `snapshotBytes` above `maxBufferedBytes`
 * @throws {@link ViewerAssetsNotFoundError} when no assets folder is found
 * @example
 * ```ts
 * import { startTelemetryServer } from '../http/http-server.js';
 * import { ViewerHub } from './viewer-hub.js';
 * const viewer = createViewerHandler({ hub: new ViewerHub() });
 * const telemetry = await startTelemetryServer({ port: 9464, metrics, health: () => ({ checks: [] }), extraHandler: viewer.handle });
 * // on shutdown:
 * viewer.close();
 * await telemetry.close();
 * ```
 */
export function createViewerHandler(options: ViewerHandlerOptions): ViewerHandler {
  const base = options.basePath ?? '/viewer';
  if (!base.startsWith('/') || base.endsWith('/') || base.length < 2)
    throw new OptionError('viewer', 'basePath', base, 'must start with "/" and not end with "/"');
  const limits = DEFAULT_VIEWER_LIMITS;
  const maxClients = positiveInt('maxClients', options.maxClients, limits.maxClients);
  const maxBufferedBytes = positiveInt(
    'maxBufferedBytes',
    options.maxBufferedBytes,
    limits.clientBufferBytes,
  );
  const maxDroppedInARow = positiveInt('maxDroppedInARow', options.maxDroppedInARow, limits.maxDroppedInARow);
  const retryAfter = positiveInt('retryAfterSeconds', options.retryAfterSeconds, limits.retryAfterSeconds);
  const bounds = {
    maxStrips: positiveInt('snapshotStrips', options.snapshotStrips, limits.snapshotStrips),
    maxBytes: positiveInt(
      'snapshotBytes',
      options.snapshotBytes,
      Math.min(limits.snapshotBytes, maxBufferedBytes),
    ),
  };
  if (bounds.maxBytes > maxBufferedBytes)
    throw new OptionError(
      'viewer',
      'snapshotBytes',
      bounds.maxBytes,
      `must be at most maxBufferedBytes (${maxBufferedBytes})`,
    );
  const assetsDir = options.assetsDir ?? resolveAssetsDir();
  const hub = options.hub;
  const auth = options.token === undefined ? undefined : new ViewerAuth(options.token, base);
  const feed = new ViewerFeed(hub, bounds);
  let refused = 0;
  let cutOff = 0;
  const stats = (): ViewerHandlerStats => ({
    clients: feed.size,
    refused,
    cutOff,
    droppedUpdates: feed.droppedUpdates,
  });

  function openEvents(res: ServerResponse, camera: string | null): void {
    if (feed.size >= maxClients) {
      refused += 1;
      res.setHeader('retry-after', String(retryAfter));
      res.setHeader('connection', 'close');
      sendJson(res, 503, { error: 'too many viewer clients', maxClients });
      options.onClientEvent?.('refused', stats());
      return;
    }
    const stream = new SseStream(res, {
      maxBufferedBytes,
      maxDroppedInARow,
      ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
      ...(options.retryMs === undefined ? {} : { retryMs: options.retryMs }),
    });
    stream.onClose((reason) => {
      if (reason !== 'slow') return;
      cutOff += 1;
      options.onClientEvent?.('cut-off', stats());
    });
    feed.add(stream, camera);
  }

  function route(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const rest = url.pathname === base ? null : url.pathname.slice(base.length + 1);
    if (auth !== undefined && !auth.admit(req, res, url, rest === null || rest === '')) return;
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
      else sendJsonText(res, 200, snapshotJson(snapshot, bounds), headOnly);
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
      return feed.size;
    },
    stats,
    close() {
      feed.close();
    },
  };
}
