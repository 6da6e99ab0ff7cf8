import { createInterface } from 'node:readline';
import type { CliIO } from './command.js';

/** Asks the operator to do something and waits for Enter. */
export interface Prompter {
  /**
   * Writes `message` to stderr and waits for a line on the input. Resolves
   * `enter`, or `eof` when the input ends first (a script with nothing to read: go on).
   */
  ask(message: string): Promise<'enter' | 'eof'>;
  /** Stops reading the input (lets the process exit). */
  close(): void;
}

/**
 * A {@link Prompter} on `io.input` (default `process.stdin`); prompts go to `io.err`, so that
 * stdout keeps only the command's result.
 *
 * @example
 * ```ts
 * import { processIO } from './main.js';
 * const prompter = createPrompter(processIO);
 * await prompter.ask('Close the shutter or cap the lens, then press Enter');
 * prompter.close();
 * ```
 */
export function createPrompter(io: CliIO): Prompter {
  const input = io.input ?? process.stdin;
  const lines = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
  const iterator = lines[Symbol.asyncIterator]();
  // A terminal echoes the operator's Enter; piped input does not, so the line is ended here.
  const echoes = (input as { isTTY?: boolean }).isTTY === true;
  let ended = false;
  return {
    async ask(message) {
      io.err(`${message} `);
      if (ended) {
        io.err('(no input: going on)\n');
        return 'eof';
      }
      const next = await iterator.next();
      if (next.done === true) {
        ended = true;
        io.err('(no input: going on)\n');
        return 'eof';
      }
      if (!echoes) io.err('\n');
      return 'enter';
    },
    close() {
      lines.close();
    },
  };
}
