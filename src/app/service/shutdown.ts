/**
 * Graceful shutdown of a running service: SIGINT/SIGTERM stop the camera, the frames in flight
 * finish, the sinks flush, and the process exits 0 within the deadline. Past the deadline, or on
 * a second signal, it logs why and exits 1 at once.
 */
import type { Logger } from '../../telemetry/logger.js';
import type { ServiceOutcome } from './service.js';

/** The part of a running service the supervisor drives. */
export interface Stoppable {
  readonly done: Promise<ServiceOutcome>;
  stop(reason: string): Promise<ServiceOutcome>;
}

/** Something that delivers signals (the process; tests pass an EventEmitter). */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/** Options of {@link superviseService}. */
export interface SuperviseOptions {
  /** From the first signal to a forced exit 1, ms (`shutdown.deadlineMs`). */
  readonly deadlineMs: number;
  readonly logger: Logger;
  /** Ends the process now (default `process.exit`). */
  readonly exit?: (code: number) => void;
  /** Where signals come from (default `process`). */
  readonly signals?: SignalSource;
  /** Signals that start a graceful stop (default SIGINT and SIGTERM). */
  readonly on?: readonly NodeJS.Signals[];
  /** Called with the signal when a graceful stop begins (e.g. to end a summary line). */
  readonly onSignal?: (signal: NodeJS.Signals) => void;
}

/**
 * Waits for the service to end, turning SIGINT/SIGTERM into a graceful stop bounded by the
 * deadline. Resolves with the exit code (the outcome's) once the service is done; if the deadline
 * passes first, or a second signal arrives, it logs and calls `exit(1)` itself.
 *
 * @example
 * ```ts
 * import { startService } from './service.js';
 * const service = await startService(config);
 * const code = await superviseService(service, { deadlineMs: config.shutdown.deadlineMs, logger });
 * process.exitCode = code;
 * ```
 */
export async function superviseService(service: Stoppable, options: SuperviseOptions): Promise<number> {
  const signals = options.signals ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const names = options.on ?? (['SIGINT', 'SIGTERM'] as const);
  const log = options.logger.child({ component: 'shutdown' });
  let deadline: NodeJS.Timeout | undefined;
  let first: NodeJS.Signals | undefined;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (first !== undefined) {
      log.error({ signal, first }, 'second signal during shutdown: exiting now');
      exit(1);
      return;
    }
    first = signal;
    options.onSignal?.(signal);
    log.info({ signal, deadlineMs: options.deadlineMs }, 'shutdown requested');
    deadline = setTimeout(() => {
      log.error(
        { signal, deadlineMs: options.deadlineMs },
        'shutdown deadline passed: exiting with frames or messages still in flight',
      );
      exit(1);
    }, options.deadlineMs);
    void service.stop(signal);
  };
  for (const name of names) signals.on(name, onSignal);
  try {
    const outcome = await service.done;
    return outcome.code;
  } finally {
    clearTimeout(deadline);
    for (const name of names) signals.off(name, onSignal);
  }
}
