import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/app/cli/main.js';
import { captureIO } from '../../helpers/capture-io.js';

describe('cubestream CLI', () => {
  it('lists commands with --help and exits 0', async () => {
    const io = captureIO();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.stdout()).toContain('Usage: cubestream <command> [options]');
  });

  it('exits 2 with one line for an unknown command', async () => {
    const io = captureIO();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(io.stderr()).toMatch(/^cubestream: unknown command "frobnicate" \(commands: .*\)\n$/);
  });

  it('exits 2 without a command', async () => {
    const io = captureIO();
    expect(await runCli([], io)).toBe(2);
  });
});
