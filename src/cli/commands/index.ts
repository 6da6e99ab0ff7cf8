import type { CliCommand } from '../command.js';

/** Every `cubestream` command, in the order `--help` lists them. */
export const commands: readonly CliCommand[] = [];
