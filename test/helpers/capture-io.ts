import type { CliIO } from '../../src/app/cli/command.js';

/** A CliIO that records what a command printed, for CLI tests. */
export function captureIO(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    stdout: () => out,
    stderr: () => err,
  };
}
