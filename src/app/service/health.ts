/**
 * The service's readiness (`/readyz`): ready iff the model bundle is loaded, every decision sink
 * is connected and the camera source is running: frames flowing (simulator, replay), or
 * connected and subscribed (a broker source, which may then be quiet for a while). A source
 * that is still starting, cannot reach its broker, or ended is not ready, with its state as the
 * detail.
 */
import { type DecisionSink, sinkHealthCheck } from '../../../connectors/sinks/sink.js';
import type { SourceState } from '../../../connectors/sources/source-state.js';
import type { HealthCheck, HealthReport } from '../../telemetry/health.js';

/** What the readiness report looks at; updated by the service as it starts and stops. */
export interface ServiceHealthState {
  /** Version of the loaded model, undefined until the bundle is loaded. */
  modelVersion: string | undefined;
  /** The sinks (their `connected` flags are read on each request). */
  sinks: readonly DecisionSink[];
  /** Current state of the camera source. */
  source: SourceState;
  /** True once shutdown began: the service is no longer ready for traffic. */
  stopping: boolean;
}

/**
 * The health report of the current state.
 *
 * @example
 * ```ts
 * import { startTelemetryServer } from '../http/http-server.js';
 * const state: ServiceHealthState = { modelVersion: bundle.manifest.version, sinks: [sink], source: 'running', stopping: false };
 * await startTelemetryServer({ port: 9464, metrics, health: () => healthReport(state) });
 * // GET /readyz -> 200 {"status":"ready","checks":{"model":{"ok":true,"detail":"demo-1"},"sink:mqtt":{...}}}
 * ```
 */
export function healthReport(state: ServiceHealthState): HealthReport {
  const checks: HealthCheck[] = [
    state.modelVersion === undefined
      ? { name: 'model', ok: false, detail: 'not loaded' }
      : { name: 'model', ok: true, detail: state.modelVersion },
    ...state.sinks.map((sink) => sinkHealthCheck(sink)),
    { name: 'source', ok: state.source === 'running', detail: state.source },
  ];
  if (state.stopping) checks.push({ name: 'shutdown', ok: false, detail: 'stopping' });
  return { checks };
}
