/**
 * A standalone HTTP server for the live viewer (the service's `viewer.port`, default 8080), for
 * when it is not mounted on the telemetry server.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createViewerHandler, type ViewerHandlerOptions } from './viewer-handler.js';

/** Port the viewer listens on unless configured (`viewer.port`, demo `--viewer-port`). */
export const DEFAULT_VIEWER_PORT = 8080;

/** Options of {@link startViewerServer}: the handler's, plus where to listen. */
export interface ViewerServerOptions extends ViewerHandlerOptions {
  /** TCP port; 0 picks a free one (default {@link DEFAULT_VIEWER_PORT}). */
  port?: number;
  /** Interface to bind (default `0.0.0.0`). */
  host?: string;
}

/** A running viewer server. */
export interface ViewerServer {
  /** The bound port. */
  readonly port: number;
  /** `http://<host>:<port>` (`127.0.0.1` when bound to all interfaces). */
  readonly url: string;
  /** The page: `<url><basePath>/`. */
  readonly pageUrl: string;
  /** Ends the event streams, stops listening, and resolves when every connection is closed. */
  close(): Promise<void>;
}

/**
 * Starts a server answering the viewer routes (see `createViewerHandler`); `/` redirects to
 * the page, anything else is 404.
 *
 * @example
 * ```ts
 * const hub = new ViewerHub();
 * const viewer = await startViewerServer({ port: 8080, hub });
 * console.log(`viewer at ${viewer.pageUrl}`);
 * await viewer.close();
 * ```
 */
export async function startViewerServer(options: ViewerServerOptions): Promise<ViewerServer> {
  const handler = createViewerHandler(options);
  const base = options.basePath ?? '/viewer';
  const host = options.host ?? '0.0.0.0';
  const server = http.createServer((req, res) => {
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_VIEWER_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${urlHost.includes(':') ? `[${urlHost}]` : urlHost}:${port}`;
  return {
    port,
    url,
    pageUrl: `${url}${base}/`,
    async close() {
      handler.close();
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
