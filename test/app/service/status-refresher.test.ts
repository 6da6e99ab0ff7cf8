import { describe, expect, it } from 'vitest';
import { StatusRefresher } from '../../../src/app/service/status-refresher.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { waitFor } from '../../helpers/mqtt-collector.js';

const logger = createLogger({ level: 'silent' });

function refresher(minIntervalMs: number, clock: { now: number }) {
  const published: [string, number][] = [];
  const r = new StatusRefresher({
    publish: async (camera, update) => {
      published.push([camera, update.threshold]);
    },
    minRelativeChange: 0.05,
    minIntervalMs,
    logger,
    now: () => clock.now,
  });
  return { r, published };
}

describe('StatusRefresher', () => {
  it('publishes the first τ, then only notable changes, per camera', () => {
    const clock = { now: 1_000_000 };
    const { r, published } = refresher(0, clock);
    r.update('a', 10);
    r.update('a', 10.4); // 4 %: not notable
    r.update('b', 3);
    r.update('a', 10.6); // 6 % above the published 10
    r.update('a', Number.NaN);
    expect(published).toEqual([
      ['a', 10],
      ['b', 3],
      ['a', 10.6],
    ]);
    r.close();
  });

  it('holds a notable change back until the interval has passed, then publishes the latest τ', async () => {
    const clock = { now: 1_000_000 };
    const { r, published } = refresher(30, clock);
    r.update('a', 10);
    clock.now += 5;
    r.update('a', 20);
    r.update('a', 30);
    expect(published).toEqual([['a', 10]]);
    clock.now += 100;
    await waitFor(() => published.length === 2, 'the held-back status');
    expect(published).toEqual([
      ['a', 10],
      ['a', 30],
    ]);
    r.close();
  });

  it('drops a held-back change on close', async () => {
    const clock = { now: 1_000_000 };
    const { r, published } = refresher(20, clock);
    r.update('a', 10);
    r.update('a', 50);
    r.close();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(published).toEqual([['a', 10]]);
  });
});
