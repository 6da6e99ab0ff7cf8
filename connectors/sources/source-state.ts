import { BehaviorSubject, distinctUntilChanged, type Observable } from 'rxjs';
import type { CubeFrame } from '../../src/core/frame.js';
import type { RowsReady } from '../../src/core/rows-ready.js';

/**
 * Lifecycle of a camera source:
 * - `starting`: created or subscribed, nothing emitted yet;
 * - `running`: frames are flowing (a broker source: connected and subscribed);
 * - `disconnected`: a broker source lost its broker, or has not reached it yet after a first
 *   failed attempt, and retries with backoff (see {@link ConnectionIssue});
 * - `ended`: the source completed (or its subscriber went away);
 * - `error`: the source failed; the error went to the `frames` error channel.
 */
export type SourceState = 'starting' | 'running' | 'disconnected' | 'ended' | 'error';

/** Why a broker source is not connected, and when it tries again. */
export interface ConnectionIssue {
  /** What the last attempt (or the lost connection) failed with. */
  readonly error: Error;
  /** Failed attempts in a row (1 for the first). */
  readonly attempt: number;
  /** Milliseconds until the next attempt. */
  readonly retryInMs: number;
}

/**
 * A source of cube frames (file replay, simulated camera, broker subscription).
 *
 * `frames` is cold: work starts on subscribe and stops on unsubscribe. `state` replays the
 * current state to each new subscriber (a {@link BehaviorSubject} view).
 */
export interface CameraSource {
  /**
   * The frames; errors go to the error channel. A frame with `release` has its buffer lent from
   * the source's pool: its last holder calls `release()` once (see `CubeFrame.release`).
   */
  readonly frames: Observable<CubeFrame>;
  /** Current lifecycle state; starts at `starting`, emits only on change. */
  readonly state: Observable<SourceState>;
  /**
   * Progress of blocks still being captured, from sources that fill a block line by line
   * (the paced simulator); the scorer may score their rows ahead. Absent: blocks come whole.
   */
  readonly rows?: Observable<RowsReady>;
}

/** A writable source state: sources call `set`, consumers subscribe to `state`. */
export interface SourceStateController {
  /** The read-only, distinct view handed out as {@link CameraSource.state}. */
  readonly state: Observable<SourceState>;
  /** The current state. */
  readonly current: SourceState;
  /** Moves to `next`; repeated values are not re-emitted. */
  set(next: SourceState): void;
}

/**
 * Creates a {@link SourceStateController} starting at `initial` (default `starting`).
 *
 * @example
 * ```ts
 * const s = createSourceState();
 * s.state.subscribe((v) => console.log(v)); // 'starting'
 * s.set('running');                         // 'running'
 * ```
 */
export function createSourceState(initial: SourceState = 'starting'): SourceStateController {
  const subject = new BehaviorSubject<SourceState>(initial);
  const state = subject.asObservable().pipe(distinctUntilChanged());
  return {
    state,
    get current() {
      return subject.getValue();
    },
    set(next: SourceState) {
      if (subject.getValue() !== next) subject.next(next);
    },
  };
}
