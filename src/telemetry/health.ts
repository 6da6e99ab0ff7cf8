/** Readiness checks as the service reports them on `/readyz`, and as sinks and sources contribute them. */

/** One readiness check: e.g. `{ name: 'model', ok: true }`, `{ name: 'sink:mqtt', ok: false }`. */
export interface HealthCheck {
  /** Short stable name, shown as a key of `checks` in the `/readyz` body. */
  readonly name: string;
  readonly ok: boolean;
  /** Optional human-readable detail (e.g. the broker URL or the last error). */
  readonly detail?: string;
}

/** What the service reports on `/readyz`: ready iff every check is ok. */
export interface HealthReport {
  readonly checks: readonly HealthCheck[];
}
