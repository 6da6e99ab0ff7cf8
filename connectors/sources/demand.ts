/**
 * Asked by a source that is not paced by a clock (a replay or simulation without
 * `linesPerSecond`) before each block: returns a promise that resolves when the consumer can
 * take the block, or `undefined` when it can take it now. A source without one emits as fast
 * as the event loop turns, which an asynchronous consumer (scoring on worker threads) cannot
 * keep up with. `reserve` (default 1): how many items the caller may bring at once (a source
 * with several pulls in flight asks for room for all of them).
 */
export type Demand = (reserve?: number) => Promise<void> | undefined;

/**
 * A {@link Demand} fed by a bounded queue's depth (the pipeline's `backpressure` queue, through
 * its `onQueueDepth` hook): there is room while fewer than `capacity` items wait, so a
 * consumer-paced source fills the queue but never overflows it, and nothing is dropped.
 *
 * @example
 * ```ts
 * import type { CubeFrame } from 'cubestream';
 * import { enviReplay } from 'cubestream/connectors';
 * import { backpressure } from 'cubestream/operators';
 * declare function score(frame: CubeFrame): Promise<number>; // on a worker thread
 * const room = new QueueRoom(4);
 * const camera = enviReplay({ path: 'scans/', demand: room.demand });
 * camera.frames.pipe(backpressure(score, { policy: 'dropOldest', capacity: 4, onQueueDepth: (d) => room.update(d) }));
 * ```
 */
export class QueueRoom {
  readonly #capacity: number;
  #depth = 0;
  #waiting: (() => void)[] = [];

  /** @param capacity - items the queue holds; room while the depth is below it */
  constructor(capacity: number) {
    this.#capacity = Math.max(1, Math.floor(capacity));
  }

  /** Items waiting now (the last depth reported). */
  get depth(): number {
    return this.#depth;
  }

  /** Reports the queue's depth; wakes the waiting source when there is room. */
  update(depth: number): void {
    this.#depth = depth;
    if (depth < this.#capacity && this.#waiting.length > 0) {
      for (const wake of this.#waiting.splice(0)) wake();
    }
  }

  /** The {@link Demand} to hand to a source (bound; safe to pass around). */
  readonly demand: Demand = (reserve = 1) => {
    // Never more than the whole capacity: with a larger reserve, room means an empty queue.
    if (this.#depth + Math.min(Math.max(1, reserve), this.#capacity) <= this.#capacity) return undefined;
    return new Promise<void>((resolve) => this.#waiting.push(resolve));
  };
}
