/**
 * `cubestream <command>`: the command-line entry point (see `src/app/cli/commands/` for commands).
 * @packageDocumentation
 */
import { runCli } from './cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
