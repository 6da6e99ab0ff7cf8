import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OfflineQueue } from '../../../connectors/sinks/offline-queue.js';

describe('OfflineQueue', () => {
  it('drops the oldest item when full under drop-oldest', () => {
    const q = new OfflineQueue<number>(2, 'drop-oldest');
    expect(q.push(1)).toBeUndefined();
    expect(q.push(2)).toBeUndefined();
    expect(q.push(3)).toBe(1);
    expect(q.drain()).toEqual([2, 3]);
  });

  it('refuses the new item when full under drop-newest', () => {
    const q = new OfflineQueue<number>(2, 'drop-newest');
    q.push(1);
    q.push(2);
    expect(q.push(3)).toBe(3);
    expect(q.drain()).toEqual([1, 2]);
  });

  it('requeues at the front and trims by the policy', () => {
    const oldest = new OfflineQueue<number>(3, 'drop-oldest');
    oldest.push(3);
    oldest.push(4);
    expect(oldest.requeue([1, 2])).toEqual([1]);
    expect(oldest.take(10)).toEqual([2, 3, 4]);
    const newest = new OfflineQueue<number>(3, 'drop-newest');
    newest.push(3);
    newest.push(4);
    expect(newest.requeue([1, 2])).toEqual([4]);
    expect(newest.drain()).toEqual([1, 2, 3]);
  });

  it('never holds more than its capacity and accounts for every item (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.constantFrom('drop-oldest' as const, 'drop-newest' as const),
        fc.array(fc.integer(), { maxLength: 100 }),
        (capacity, policy, items) => {
          const q = new OfflineQueue<number>(capacity, policy);
          let dropped = 0;
          for (const item of items) {
            if (q.push(item) !== undefined) dropped += 1;
            expect(q.length).toBeLessThanOrEqual(capacity);
          }
          expect(q.length + dropped).toBe(items.length);
          const kept = q.drain();
          const expected = policy === 'drop-oldest' ? items.slice(-capacity) : items.slice(0, capacity);
          expect(kept).toEqual(items.length === 0 ? [] : expected);
        },
      ),
    );
  });
});
