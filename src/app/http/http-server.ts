/**
 * The service's HTTP endpoint: `/metrics` (Prometheus text exposition), `/healthz` (liveness),
 * `/readyz` (readiness with named checks), and room for extra routes (the live viewer).
 * With a token, `/metrics` requires `Authorization: Bearer <token>`; `/healthz` and `/readyz`
 * stay open (Kubernetes probes and the image's HEALTHCHECK cannot send a token; they reveal
 * only up/ready and the names of the checks).
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { HealthReport } from '../../telemetry/health.js';
import { BearerToken, challenge } from './bearer-token.js';
import { boundAddress, DEFAULT_HTTP_HOST, listenOn } from './listen.js';

/** Body of `/readyz`. */
export interface ReadinessBody {
  status: 'ready' | 'not ready';
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** Options of {@link startTelemetryServer}. */
export interface TelemetryServerOptions {
  /** TCP port; 0 picks a free ephemeral port (read it back from the returned handle). */
  port: number;
  /** Interface to bind; default `127.0.0.1` (loopback only; `0.0.0.0` for every interface). */
  host?: string;
  /**
   * Bearer token required on `/metrics` (401 with `WWW-Authenticate: Bearer` without it);
   * `/healthz`, `/readyz` and the extra routes are not affected. Default: none (open).
   */
  token?: string;
  /** Anything holding the prom-client registry to expose (a `CubestreamMetrics` does). */
  metrics: { readonly registry: Registry };
  /** Called on each `/readyz` request. */
  health: () => HealthReport | Promise<HealthReport>;
  /**
   * Extra routes, tried before the built-in ones: return true when the request was handled
   * (the handler then owns the response), false to fall through.
   */
  extraHandler?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/** A running telemetry server. */
export interface TelemetryServer {
  /** The bound port (the ephemeral one when started with port 0). */
  readonly port: number;
  /** `http://<host>:<port>` (`127.0.0.1` when bound to all interfaces). */
  readonly url: string;
  /** `host:port` actually bound (from `server.address()`), e.g. `127.0.0.1:9464`, `0.0.0.0:9464`. */
  readonly address: string;
  /** Stops accepting connections, closes idle keep-alive sockets and resolves when closed. */
  close(): Promise<void>;
}

/** Builds the `/readyz` body and status code from a health report. */
export function readiness(report: HealthReport): { statusCode: 200 | 503; body: ReadinessBody } {
  const checks: ReadinessBody['checks'] = {};
  for (const check of report.checks) {
    checks[check.name] =
      check.detail === undefined ? { ok: check.ok } : { ok: check.ok, detail: check.detail };
  }
  const ready = report.checks.every((check) => check.ok);
  return { statusCode: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not ready', checks } };
}

function sendJson(res: ServerResponse, statusCode: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  options: TelemetryServerOptions,
  token: BearerToken | undefined,
): Promise<void> {
  if (options.extraHandler?.(req, res) === true) return;
  const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
  const known = pathname === '/metrics' || pathname === '/healthz' || pathname === '/readyz';
  if (!known) {
    sendJson(res, 404, { error: 'not found', path: pathname });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendJson(res, 405, { error: 'method not allowed', method: req.method });
    return;
  }
  if (pathname === '/metrics') {
    if (token !== undefined && !token.authorizes(req)) {
      challenge(res, 'cubestream metrics');
      return;
    }
    const registry = options.metrics.registry;
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(text);
  } else if (pathname === '/healthz') {
    sendJson(res, 200, { status: 'ok' });
  } else {
    const { statusCode, body } = readiness(await options.health());
    sendJson(res, statusCode, body);
  }
}

/**
 * Starts the telemetry HTTP server.
 *
 * @example
 * ```ts
 * import { sinkHealthCheck } from 'cubestream/connectors';
 * const server = await startTelemetryServer({
 *   port: 9464,
 *   metrics,
 *   health: () => ({ checks: [{ name: 'model', ok: true, detail: bundle.manifest.version }, sinkHealthCheck(sink)] }),
 * });
 * // GET /metrics, /healthz, /readyz
 * await server.close();
 * ```
 */
export async function startTelemetryServer(options: TelemetryServerOptions): Promise<TelemetryServer> {
  const host = options.host ?? DEFAULT_HTTP_HOST;
  const token = options.token === undefined ? undefined : new BearerToken(options.token);
  const server = http.createServer((req, res) => {
    route(req, res, options, token).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy(error instanceof Error ? error : undefined);
        return;
      }
      sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  await listenOn(server, options.port, host);
  const bound = boundAddress(server);
  return {
    port: bound.port,
    url: bound.url,
    address: bound.address,
    async close() {
      const closed = once(server, 'close');
      server.close();
      server.closeIdleConnections();
      await closed;
    },
  };
}
