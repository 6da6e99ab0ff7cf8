import type { CliCommand } from '../command.js';
import { calibrateCommand } from './calibrate.js';
import { camerasCommand } from './cameras.js';
import { captureCommand } from './capture.js';
import { demoCommand } from './demo.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { inspectCommand } from './inspect.js';
import { modelCommand } from './model.js';
import { publishCommand } from './publish.js';
import { runCommand } from './run.js';
import { simulateCommand } from './simulate.js';
import { trainCommand } from './train.js';

/** Every `cubestream` command, in the order `--help` lists them. */
export const commands: readonly CliCommand[] = [
  inspectCommand,
  simulateCommand,
  trainCommand,
  evalCommand,
  runCommand,
  demoCommand,
  camerasCommand,
  calibrateCommand,
  captureCommand,
  publishCommand,
  exportCommand,
  modelCommand,
];
