/**
 * A standalone HTTP server for the live viewer (the service's `viewer.port`, default 8080), for
 * when it is not mounted on the telemetry server.
 */
import { once } from 'node:events';
import http from 'node:http';
import { boundAddress, DEFAULT_HTTP_HOST, listenOn } from '../http/listen.js';
import { createViewerHandler, type ViewerHandler, type ViewerHandlerOptions } from './viewer-handler.js';
import { DEFAULT_VIEWER_LIMITS } from './viewer-limits.js';

/** Port the viewer listens on unless configured (`viewer.port`, demo `--viewer-port`). */
export const DEFAULT_VIEWER_PORT = 8080;

/** Options of {@link startViewerServer}: the handler's, plus where to listen. */
export interface ViewerServerOptions extends ViewerHandlerOptions {
  /** TCP port; 0 picks a free one (default {@link DEFAULT_VIEWER_PORT}). */
  port?: number;
  /** Interface to bind (default `127.0.0.1`, loopback only; `0.0.0.0` for every interface). */
  host?: string;
  /**
   * TCP connections kept at most (`server.maxConnections`): further ones are closed at once
   * (default `DEFAULT_VIEWER_LIMITS.maxConnections`, 256).
   */
  maxConnections?: number;
}

/** A client must have sent its request headers within this, ms (slow-header clients hold no slot). */
const HEADERS_TIMEOUT_MS = 10_000;

/** A running viewer server. */
export interface ViewerServer {
  /** The bound port. */
  readonly port: number;
  /** `http://<host>:<port>` (`127.0.0.1` when bound to all interfaces). */
  readonly url: string;
  /** `host:port` actually bound (from `server.address()`), e.g. `127.0.0.1:8080`. */
  readonly address: string;
  /** The routes: open streams and their counters. */
  readonly handler: ViewerHandler;
  /** The page: `<url><basePath>/`. */
  readonly pageUrl: string;
  /** Ends the event streams, stops listening, and resolves when every connection is closed. */
  close(): Promise<void>;
}

/**
 * Starts a server answering the viewer routes (see `createViewerHandler`); `/` redirects to
 * the page, anything else is 404. It keeps at most `maxConnections` sockets and drops clients
 * that do not send their request headers within 10 s.
 *
 * @example
 * ```ts
 * import { ViewerHub } from './viewer-hub.js';
 * const hub = new ViewerHub();
 * const viewer = await startViewerServer({ port: 8080, hub });
 * console.log(`viewer at ${viewer.pageUrl}`);
 * await viewer.close();
 * ```
 */
export async function startViewerServer(options: ViewerServerOptions): Promise<ViewerServer> {
  const handler = createViewerHandler(options);
  const base = options.basePath ?? '/viewer';
  const host = options.host ?? DEFAULT_HTTP_HOST;
  const server = http.createServer({ connectionsCheckingInterval: 2_000 }, (req, res) => {
    if (handler.handle(req, res)) return;
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname === '/') {
      res.writeHead(302, { location: `${base}/` });
      res.end();
      return;
    }
    const body = JSON.stringify({ error: 'not found', path: pathname });
    res.writeHead(404, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  server.maxConnections = options.maxConnections ?? DEFAULT_VIEWER_LIMITS.maxConnections;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = HEADERS_TIMEOUT_MS;
  try {
    await listenOn(server, options.port ?? DEFAULT_VIEWER_PORT, host);
  } catch (error) {
    handler.close();
    throw error;
  }
  const bound = boundAddress(server);
  return {
    port: bound.port,
    url: bound.url,
    address: bound.address,
    handler,
    pageUrl: `${bound.url}${base}/`,
    async close() {
      handler.close();
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
