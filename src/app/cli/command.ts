import type { ParseArgsConfig } from 'node:util';
import { CubestreamError } from '../../core/errors.js';

/** Option definitions of a command, in the form of Node's `util.parseArgs`. */
export type CliOptions = NonNullable<ParseArgsConfig['options']>;

/** Parsed option values: strings, booleans, or arrays of them for `multiple` options. */
export type CliValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Where a command writes; tests pass their own to capture output. */
export interface CliIO {
  /** Writes to standard output (no newline added). */
  out(text: string): void;
  /** Writes to standard error (no newline added). */
  err(text: string): void;
  /** Standard input, for commands that prompt (`calibrate`); default `process.stdin`. */
  readonly input?: NodeJS.ReadableStream;
}

/**
 * One `cubestream <name>` command. Each lives in `src/app/cli/commands/<name>.ts` and is listed in
 * `src/app/cli/commands/index.ts`.
 *
 * @example
 * ```ts
 * const helloCommand: CliCommand = {
 *   name: 'hello',
 *   summary: 'Say hello',
 *   usage: 'cubestream hello [--name NAME]',
 *   options: { name: { type: 'string' } },
 *   async run({ values }, io) { io.out(`hello ${values.name ?? 'world'}\n`); return 0; },
 * };
 * ```
 */
export interface CliCommand {
  /** The word after `cubestream`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Usage line(s) and option descriptions, printed by `--help`. */
  readonly usage: string;
  /** Options accepted (`--help` is added for every command). */
  readonly options: CliOptions;
  /** Whether positional arguments are accepted (default false). */
  readonly allowPositionals?: boolean;
  /** Runs the command; resolves to the process exit code. Throw {@link UsageError} for a bad argument. */
  run(args: { values: CliValues; positionals: string[] }, io: CliIO): Promise<number>;
}

/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends CubestreamError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** Reads a string option, throwing {@link UsageError} when required and absent. */
export function stringOption(values: CliValues, name: string, required: true): string;
export function stringOption(values: CliValues, name: string, required?: false): string | undefined;
export function stringOption(values: CliValues, name: string, required = false): string | undefined {
  const value = values[name];
  if (value === undefined) {
    if (required) throw new UsageError(`missing required option --${name}`);
    return undefined;
  }
  if (typeof value !== 'string') throw new UsageError(`--${name} needs a value`);
  return value;
}

/**
 * The `--set key.path=value` overrides of a command (repeatable), in the order given.
 *
 * @throws {@link UsageError} when a `--set` has no value
 * @example
 * ```ts
 * setOverrides({ set: ['trainer.epochs=5'] }); // ['trainer.epochs=5']
 * ```
 */
export function setOverrides(values: CliValues): string[] {
  const raw = values.set;
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : [raw]).map((value) => {
    if (typeof value !== 'string') throw new UsageError('--set needs key.path=value');
    return value;
  });
}

/**
 * Reads a numeric option within `[min, max]`; `integer` demands a whole number.
 *
 * @throws {@link UsageError} naming the option and the bad value
 */
export function numberOption(
  values: CliValues,
  name: string,
  fallback: number,
  range: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const raw = stringOption(values, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY, integer = false } = range;
  if (
    raw.trim() === '' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    value < min ||
    value > max
  ) {
    const kind = integer ? 'an integer' : 'a number';
    const bounds = [Number.isFinite(min) ? `>= ${min}` : '', Number.isFinite(max) ? `<= ${max}` : '']
      .filter(Boolean)
      .join(' and ');
    throw new UsageError(`--${name} must be ${kind}${bounds ? ` ${bounds}` : ''}, got "${raw}"`);
  }
  return value;
}
