/**
 * The bounded FIFO a sink keeps messages in while its broker is unreachable. Overflow never
 * passes silently: every method that drops returns what it dropped, for the caller to count.
 */
import type { OverflowPolicy } from './sink.js';

/**
 * A bounded FIFO with an overflow policy.
 *
 * @example
 * ```ts
 * const q = new OfflineQueue<string>(2, 'drop-oldest');
 * q.push('a'); q.push('b');
 * q.push('c'); // returns 'a' (dropped); queue: b, c
 * ```
 */
export class OfflineQueue<T> {
  private items: T[] = [];

  /**
   * @param capacity - most items held (>= 1)
   * @param policy - which item a full queue drops
   */
  constructor(
    readonly capacity: number,
    readonly policy: OverflowPolicy,
  ) {}

  /** Items held. */
  get length(): number {
    return this.items.length;
  }

  /** Appends an item; returns the item dropped to stay within capacity (the oldest, or `item` itself). */
  push(item: T): T | undefined {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return undefined;
    }
    if (this.policy === 'drop-newest') return item;
    const oldest = this.items.shift();
    this.items.push(item);
    return oldest;
  }

  /** Puts items back at the front (for a retry), then trims to capacity; returns the dropped items. */
  requeue(items: readonly T[]): T[] {
    this.items = [...items, ...this.items];
    const excess = this.items.length - this.capacity;
    if (excess <= 0) return [];
    return this.policy === 'drop-oldest'
      ? this.items.splice(0, excess)
      : this.items.splice(this.items.length - excess, excess);
  }

  /** Removes and returns up to `count` items from the front. */
  take(count: number): T[] {
    return this.items.splice(0, count);
  }

  /** Removes and returns every item. */
  drain(): T[] {
    const all = this.items;
    this.items = [];
    return all;
  }
}
