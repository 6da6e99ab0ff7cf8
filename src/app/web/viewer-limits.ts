/**
 * The live viewer's resource limits and their defaults, in one place: the viewer routes, the
 * standalone viewer server and the run-config schema (`viewer.*`) all read them from here.
 */

/** Limits of the viewer's HTTP side: how many clients, and how many bytes each may hold. */
export interface ViewerLimits {
  /** Open event streams (`/viewer/events`) at most; further ones get 503 with `Retry-After`. */
  readonly maxClients: number;
  /**
   * Unsent bytes a client may have queued before it misses strips; a client queuing more than
   * twice this, or missing {@link maxDroppedInARow} strips in a row, is disconnected.
   */
  readonly clientBufferBytes: number;
  /** Strips dropped in a row for one client before it is disconnected as too slow. */
  readonly maxDroppedInARow: number;
  /** Strips in the snapshot a client gets on connect (the newest ones). */
  readonly snapshotStrips: number;
  /** Bytes of that snapshot at most (JSON); older strips are left out to stay under it. */
  readonly snapshotBytes: number;
  /** TCP connections the standalone viewer server keeps at most (further ones are closed at once). */
  readonly maxConnections: number;
  /** Seconds a refused client is told to wait (`Retry-After`). */
  readonly retryAfterSeconds: number;
}

/** The defaults of {@link ViewerLimits}. */
export const DEFAULT_VIEWER_LIMITS: ViewerLimits = {
  maxClients: 32,
  clientBufferBytes: 4 * 1024 * 1024,
  maxDroppedInARow: 50,
  snapshotStrips: 24,
  snapshotBytes: 2 * 1024 * 1024,
  maxConnections: 256,
  retryAfterSeconds: 10,
};
