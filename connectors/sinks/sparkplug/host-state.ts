/**
 * The primary host application's STATE message of Sparkplug 3.0 (SP4 l.537-613): retained JSON
 * `{"online": true|false, "timestamp": <UTC ms>}` on `spBv1.0/STATE/<host>`. An edge node
 * configured with a primary host births only while it is online, and ignores a STATE whose
 * timestamp is older than the last one seen.
 */

/** A parsed STATE message. */
export interface HostState {
  readonly online: boolean;
  /** The host's birth/will timestamp, UTC ms (absent in a non-conforming message). */
  readonly timestamp?: number;
}

/**
 * Parses a STATE payload; undefined for anything else (e.g. a Sparkplug 2.2 host's plain
 * `ONLINE`/`OFFLINE`, which a 3.0 edge node does not accept).
 *
 * @example
 * ```ts
 * parseHostState(Buffer.from('{"online":true,"timestamp":1700000000000}')); // { online: true, timestamp: 1700000000000 }
 * parseHostState(Buffer.from('ONLINE')); // undefined
 * ```
 */
export function parseHostState(payload: Uint8Array): HostState | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { online, timestamp } = parsed as { online?: unknown; timestamp?: unknown };
  if (typeof online !== 'boolean') return undefined;
  return typeof timestamp === 'number' && Number.isFinite(timestamp) ? { online, timestamp } : { online };
}

/** Tracks the host's STATE: the newest wins, an older timestamp is stale. */
export class HostStateTracker {
  private lastTimestamp = Number.NEGATIVE_INFINITY;
  private isOnline = false;

  /** True while the last valid STATE said online. */
  get online(): boolean {
    return this.isOnline;
  }

  /** Applies a STATE; returns false (and changes nothing) when it is older than the last one seen. */
  apply(state: HostState): boolean {
    if (state.timestamp !== undefined) {
      if (state.timestamp < this.lastTimestamp) return false;
      this.lastTimestamp = state.timestamp;
    }
    this.isOnline = state.online;
    return true;
  }

  /** Forgets `online` (a new MQTT session waits for the retained STATE again); keeps the timestamp. */
  reset(): void {
    this.isOnline = false;
  }
}
