/**
 * Structured JSON logging with pino: one root logger per service, child loggers per component
 * with bound fields (`camera`, `frameId`, `sink`). Log calls pass fields as an object, never a
 * concatenated string: `log.warn({ dropped: 3 }, 'offline queue overflow')`.
 */
import { type DestinationStream, type Level, type Logger, pino } from 'pino';
import { CubestreamError, describeValue } from '../core/errors.js';
import { REDACTED, REDACTED_LOG_PATHS } from './redact.js';

/** The pino logger type used throughout cubestream. */
export type { Logger } from 'pino';

/** Environment variable read for the level when no `level` option is given. */
export const LOG_LEVEL_ENV = 'CUBESTREAM_LOG_LEVEL';

/** Accepted levels, most to least severe, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A valid log level. */
export type LogLevel = Level | 'silent';

/** Thrown when a log level (option or `CUBESTREAM_LOG_LEVEL`) is not one of {@link LOG_LEVELS}. */
export class InvalidLogLevelError extends CubestreamError {
  /**
   * @param source - where the level came from: `level` option or the env variable name
   * @param value - the rejected value
   */
  constructor(source: string, value: unknown) {
    super(
      'log_level',
      `${source}: invalid log level ${describeValue(value)}; expected one of ${LOG_LEVELS.join(', ')}`,
    );
  }
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Level; default: env `CUBESTREAM_LOG_LEVEL`, else `info`. */
  level?: string;
  /** `name` field of every line; default `cubestream`. */
  name?: string;
  /** Where lines go; default stdout. Tests pass a stream and parse the JSON lines. */
  destination?: DestinationStream;
  /** Environment to read the level from; default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** Checks a level string, naming its source in the error. */
export function parseLogLevel(value: string, source: string): LogLevel {
  const level = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new InvalidLogLevelError(source, value);
}

/**
 * Creates the root JSON logger.
 *
 * @example
 * ```ts
 * const log = createLogger({ name: 'cubestream' });
 * const camLog = componentLogger(log, 'pipeline', { camera: 'cam1' });
 * camLog.info({ frameId: 42, anomalous: true }, 'decision');
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const env = options.env ?? process.env;
  const fromEnv = env[LOG_LEVEL_ENV];
  const level =
    options.level !== undefined
      ? parseLogLevel(options.level, 'level')
      : fromEnv !== undefined && fromEnv !== ''
        ? parseLogLevel(fromEnv, LOG_LEVEL_ENV)
        : 'info';
  const config = {
    name: options.name ?? 'cubestream',
    level,
    redact: { paths: [...REDACTED_LOG_PATHS], censor: REDACTED },
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}

/**
 * A child logger for one component: every line carries `component` and the bound fields.
 *
 * @example
 * ```ts
 * const sinkLog = componentLogger(createLogger(), 'mqtt-sink', { broker: 'mqtt://plc:1883' });
 * sinkLog.warn({ camera: 'cam1', dropped: 1 }, 'offline queue overflow');
 * ```
 */
export function componentLogger(
  parent: Logger,
  component: string,
  bindings: Record<string, unknown> = {},
): Logger {
  return parent.child({ ...bindings, component });
}
