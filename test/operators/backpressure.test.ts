import { setTimeout as sleep } from 'node:timers/promises';
import { from, lastValueFrom, map, of, Subject, throwError, timer, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  type BackpressurePolicy,
  backpressure,
  type DropReason,
  QueueOverflowError,
} from '../../operators/backpressure.js';
import { testScheduler } from './scored-frame-fixtures.js';

/** Collects what a backpressure run reports. */
function recorder() {
  const drops: [string, DropReason][] = [];
  const released: string[] = [];
  const depths: number[] = [];
  return {
    drops,
    released,
    depths,
    hooks: {
      onDrop: (item: string, reason: DropReason) => drops.push([item, reason]),
      release: (item: string) => released.push(item),
      onQueueDepth: (depth: number) => depths.push(depth),
    },
  };
}

describe('backpressure (marbles: a stage that takes 5 ms per item, items every 2 ms)', () => {
  const slow = (item: string) => timer(5).pipe(map(() => item.toUpperCase()));

  const cases: [BackpressurePolicy, string, Record<string, string>, [string, DropReason][]][] = [
    ['dropNewest', '-----A----B----(D|)', { A: 'A', B: 'B', D: 'D' }, [['c', 'queue_full_newest']]],
    ['dropOldest', '-----A----C----(D|)', { A: 'A', C: 'C', D: 'D' }, [['b', 'queue_full_oldest']]],
  ];
  it.each(cases)('%s keeps order and drops per policy', (policy, expected, values, dropped) => {
    const r = recorder();
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-b-c-d-|').pipe(backpressure(slow, { policy, capacity: 1, ...r.hooks }))).toBe(
        expected,
        values,
      );
    });
    expect(r.drops).toEqual(dropped);
    expect(r.released).toEqual(dropped.map(([item]) => item));
    expect(Math.max(...r.depths)).toBe(1);
    expect(r.depths.at(-1)).toBe(0);
  });

  it('block errors with QueueOverflowError when the queue is full and releases what waited', () => {
    const r = recorder();
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold('a-b-c-d-|').pipe(backpressure(slow, { policy: 'block', capacity: 1, ...r.hooks })),
      ).toBe('----#', {}, new QueueOverflowError(1));
    });
    expect(r.drops).toEqual([]);
    expect(r.released.sort()).toEqual(['b', 'c']);
  });

  it('never drops when the stage keeps up, and completes after the queue drains', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const quick = (item: string) => timer(1).pipe(map(() => item.toUpperCase()));
      expectObservable(cold('a-b-(c|)').pipe(backpressure(quick, { policy: 'block', capacity: 1 }))).toBe(
        '-A-B-(C|)',
        {
          A: 'A',
          B: 'B',
          C: 'C',
        },
      );
    });
  });

  it('passes source and stage errors through at once, releasing the queue', () => {
    const r = recorder();
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold('a-b#', { a: 'a', b: 'b' }, new Error('camera')).pipe(
          backpressure(slow, { policy: 'dropOldest', capacity: 3, ...r.hooks }),
        ),
      ).toBe('---#', {}, new Error('camera'));
      const failing = (item: string) =>
        item === 'a'
          ? timer(3).pipe(
              map(() => {
                throw new Error('stage');
              }),
            )
          : of(item);
      expectObservable(cold('ab--').pipe(backpressure(failing, { policy: 'dropOldest', capacity: 3 }))).toBe(
        '---#',
        {},
        new Error('stage'),
      );
    });
    expect(r.released).toEqual(['b']);
  });
});

describe('backpressure with a real slow stage', () => {
  it('dropOldest lets the newest frames through a slow async stage, releasing each drop once', async () => {
    const drops: number[] = [];
    const released: number[] = [];
    const stage = async (x: number) => {
      await sleep(5);
      return x * 10;
    };
    const out = await lastValueFrom(
      from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).pipe(
        backpressure(stage, {
          policy: 'dropOldest',
          capacity: 2,
          onDrop: (x, reason) => drops.push(reason === 'queue_full_oldest' ? x : -1),
          release: (x) => released.push(x),
        }),
        toArray(),
      ),
    );
    expect(out).toEqual([0, 80, 90]);
    expect(drops).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(released).toEqual(drops);
  });

  it('runs one item at a time and reports the queue depth', async () => {
    let running = 0;
    let most = 0;
    const depths: number[] = [];
    const source = new Subject<number>();
    const done = lastValueFrom(
      source.pipe(
        backpressure(
          async (x: number) => {
            most = Math.max(most, ++running);
            await sleep(2);
            running--;
            return x;
          },
          { policy: 'dropNewest', capacity: 3, onQueueDepth: (d) => depths.push(d) },
        ),
        toArray(),
      ),
    );
    for (let i = 0; i < 5; i++) source.next(i);
    source.complete();
    expect(await done).toEqual([0, 1, 2, 3]);
    expect(most).toBe(1);
    expect(Math.max(...depths)).toBe(3);
    expect(depths.at(-1)).toBe(0);
  });

  it('handles many synchronous stage completions without recursion', async () => {
    const n = 100_000;
    const out = await lastValueFrom(
      from(Array.from({ length: n }, (_, i) => i)).pipe(
        backpressure((x: number) => of(x), { policy: 'block', capacity: 1 }),
        toArray(),
      ),
    );
    expect(out).toHaveLength(n);
    expect(out[n - 1]).toBe(n - 1);
  });

  it('releases queued items on unsubscribe', async () => {
    const released: number[] = [];
    const source = new Subject<number>();
    const sub = source
      .pipe(
        backpressure(() => sleep(50).then(() => 0), {
          policy: 'dropOldest',
          capacity: 5,
          release: (x) => released.push(x),
        }),
      )
      .subscribe();
    for (const x of [1, 2, 3]) source.next(x);
    sub.unsubscribe();
    expect(released).toEqual([2, 3]);
    await expect(
      lastValueFrom(
        throwError(() => new Error('x')).pipe(backpressure(of, { policy: 'block', capacity: 1 })),
      ),
    ).rejects.toThrow('x');
  });

  it('rejects a bad policy or capacity', () => {
    expect(() => backpressure(of, { policy: 'wait' as 'block', capacity: 1 })).toThrow(
      /backpressure\.policy/,
    );
    expect(() => backpressure(of, { policy: 'block', capacity: 0 })).toThrow(/backpressure\.capacity = 0/);
  });
});
