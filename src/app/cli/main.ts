import { parseArgs } from 'node:util';
import { CubestreamError } from '../../core/errors.js';
import { type CliCommand, type CliIO, UsageError } from './command.js';
import { commands } from './commands/index.js';
import { packageVersion } from './version.js';

/** The process's own stdout/stderr. */
export const processIO: CliIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: cubestream <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nOptions:\n  -h, --help     show this usage, or a command's options after it\n  -V, --version  print the version (anywhere on the line)\n\nRun "cubestream <command> --help" for a command's options.\n`;
}

/** Whether `--version` / `-V` appears anywhere before a `--` end-of-options marker. */
function asksForVersion(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const options = end === -1 ? argv : argv.slice(0, end);
  return options.some((arg) => arg === '--version' || arg === '-V');
}

function helpOf(command: CliCommand): string {
  return `${command.summary}\n\nUsage: ${command.usage.trimEnd()}\n  --help  show this help\n`;
}

/**
 * Runs `cubestream` with the given arguments (without `node` and the script) and resolves to the
 * exit code: 0 on success, 2 for a bad command line (one line on stderr), 1 for other failures.
 * `--version` / `-V` anywhere prints the package version; no arguments prints the usage (exit 0).
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2));
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  if (asksForVersion(argv)) {
    io.out(`cubestream ${packageVersion()}\n`);
    return 0;
  }
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(overview());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    io.err(`cubestream: unknown command "${name}" (commands: ${commands.map((c) => c.name).join(', ')})\n`);
    return 2;
  }
  try {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: [...rest],
        options: { ...command.options, help: { type: 'boolean', short: 'h' } },
        allowPositionals: command.allowPositionals ?? false,
        strict: true,
      });
    } catch (cause) {
      throw new UsageError((cause as Error).message.split('\n')[0] ?? String(cause));
    }
    if (parsed.values.help === true) {
      io.out(helpOf(command));
      return 0;
    }
    return await command.run({ values: parsed.values, positionals: parsed.positionals }, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`cubestream ${name}: ${error.message}\n`);
      return 2;
    }
    const message =
      error instanceof CubestreamError || error instanceof Error ? error.message : String(error);
    io.err(`cubestream ${name}: ${message}\n`);
    return 1;
  }
}
