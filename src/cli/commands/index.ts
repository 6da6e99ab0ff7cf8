import type { CliCommand } from '../command.js';
import { inspectCommand } from './inspect.js';
import { simulateCommand } from './simulate.js';

/** Every `cubestream` command, in the order `--help` lists them. */
export const commands: readonly CliCommand[] = [inspectCommand, simulateCommand];
