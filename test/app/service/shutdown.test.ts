import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ServiceOutcome } from '../../../src/app/service/service.js';
import { superviseService } from '../../../src/app/service/shutdown.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { waitFor } from '../../helpers/mqtt-collector.js';

const logger = createLogger({ level: 'silent' });

function outcome(reason: string, code: 0 | 1 = 0): ServiceOutcome {
  return { reason, code, frames: 3, decisions: 3, dropped: 0, rejected: 0 };
}

/** A service whose stop resolves `done` when `finish` is called. */
function fakeService() {
  let finish: (o: ServiceOutcome) => void = () => undefined;
  const done = new Promise<ServiceOutcome>((resolve) => {
    finish = resolve;
  });
  const stops: string[] = [];
  return {
    done,
    stops,
    finish: (o: ServiceOutcome) => finish(o),
    stop(reason: string) {
      stops.push(reason);
      return done;
    },
  };
}

describe('superviseService', () => {
  it('turns SIGTERM into a graceful stop and resolves with the outcome code; listeners are removed', async () => {
    const signals = new EventEmitter();
    const service = fakeService();
    const exits: number[] = [];
    const supervised = superviseService(service, {
      deadlineMs: 60_000,
      logger,
      signals,
      exit: (c) => exits.push(c),
    });
    expect(signals.listenerCount('SIGTERM')).toBe(1);
    signals.emit('SIGTERM', 'SIGTERM');
    expect(service.stops).toEqual(['SIGTERM']);
    service.finish(outcome('SIGTERM'));
    expect(await supervised).toBe(0);
    expect(exits).toEqual([]);
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
  });

  it('resolves with 1 when the service ends badly without any signal', async () => {
    const service = fakeService();
    const supervised = superviseService(service, { deadlineMs: 60_000, logger, signals: new EventEmitter() });
    service.finish(outcome('pipeline error', 1));
    expect(await supervised).toBe(1);
    expect(service.stops).toEqual([]);
  });

  it('exits 1 when the deadline passes before the service is done', async () => {
    const signals = new EventEmitter();
    const service = fakeService();
    const exits: number[] = [];
    const supervised = superviseService(service, {
      deadlineMs: 20,
      logger,
      signals,
      exit: (c) => exits.push(c),
    });
    signals.emit('SIGINT', 'SIGINT');
    await waitFor(() => exits.length > 0, 'the forced exit');
    expect(exits).toEqual([1]);
    service.finish(outcome('SIGINT'));
    await supervised;
  });

  it('exits 1 at once on a second signal', async () => {
    const signals = new EventEmitter();
    const service = fakeService();
    const exits: number[] = [];
    const seen: string[] = [];
    const supervised = superviseService(service, {
      deadlineMs: 60_000,
      logger,
      signals,
      exit: (c) => exits.push(c),
      onSignal: (s) => seen.push(s),
    });
    signals.emit('SIGINT', 'SIGINT');
    signals.emit('SIGTERM', 'SIGTERM');
    expect(exits).toEqual([1]);
    expect(seen).toEqual(['SIGINT']);
    expect(service.stops).toEqual(['SIGINT']);
    service.finish(outcome('SIGINT'));
    await supervised;
  });
});
