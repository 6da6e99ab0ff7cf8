/**
 * What the service tells about its viewer clients: Prometheus series read from the viewer's
 * counters at scrape time, and log lines for refused and cut-off clients (at most one per kind
 * every 10 s, with the totals, so that a flood of clients cannot flood the log).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../telemetry/logger.js';
import { METRIC_PREFIX } from '../../telemetry/metrics.js';
import type { ViewerHandlerStats } from '../web/viewer-handler.js';

/** Names (without the prefix) of the viewer series. */
export const VIEWER_METRIC_NAMES = [
  'viewer_clients',
  'viewer_clients_refused_total',
  'viewer_clients_cut_off_total',
  'viewer_updates_dropped_total',
] as const;

/** Least time between two log lines of the same kind, ms. */
const LOG_EVERY_MS = 10_000;

/**
 * Registers `cubestream_viewer_clients`, `..._clients_refused_total`, `..._clients_cut_off_total`
 * and `..._updates_dropped_total` on `registry`, read from `stats()` at each scrape, and returns
 * the `onClientEvent` hook of the viewer routes, which logs.
 *
 * @example
 * ```ts
 * import { startViewerServer, ViewerHub, type ViewerServer } from '../web/index.js';
 * let viewer: ViewerServer | undefined;
 * const onClientEvent = viewerTelemetry(metrics.registry, () => viewer?.handler.stats(), logger);
 * viewer = await startViewerServer({ hub: new ViewerHub(), onClientEvent });
 * ```
 */
export function viewerTelemetry(
  registry: Registry,
  stats: () => ViewerHandlerStats | undefined,
  logger: Logger,
): (kind: 'refused' | 'cut-off', stats: ViewerHandlerStats) => void {
  const registers = [registry];
  new Gauge({
    name: `${METRIC_PREFIX}viewer_clients`,
    help: 'Open live-viewer event streams',
    registers,
    collect() {
      this.set(stats()?.clients ?? 0);
    },
  });
  const counter = (suffix: string, help: string, read: (s: ViewerHandlerStats) => number): void => {
    new Counter({
      name: `${METRIC_PREFIX}${suffix}`,
      help,
      registers,
      collect() {
        const current = stats();
        this.reset();
        if (current !== undefined) this.inc(read(current));
      },
    });
  };
  counter(
    'viewer_clients_refused_total',
    'Live-viewer event streams refused (503) because viewer.maxClients were open',
    (s) => s.refused,
  );
  counter(
    'viewer_clients_cut_off_total',
    'Live-viewer clients disconnected for reading too slowly (over their byte budget)',
    (s) => s.cutOff,
  );
  counter(
    'viewer_updates_dropped_total',
    'Viewer strips not sent to a client that was over its byte budget',
    (s) => s.droppedUpdates,
  );

  const lastLogged = { refused: Number.NEGATIVE_INFINITY, 'cut-off': Number.NEGATIVE_INFINITY };
  return (kind, current) => {
    const now = Date.now();
    if (now - lastLogged[kind] < LOG_EVERY_MS) return;
    lastLogged[kind] = now;
    const fields = {
      clients: current.clients,
      refused: current.refused,
      cutOff: current.cutOff,
      droppedUpdates: current.droppedUpdates,
    };
    if (kind === 'refused') logger.warn(fields, 'viewer client refused: viewer.maxClients streams are open');
    else logger.warn(fields, 'viewer client cut off: it read too slowly (over viewer.clientBufferBytes)');
  };
}
