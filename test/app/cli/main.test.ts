import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import pkg from '../../../package.json' with { type: 'json' };
import { runCli } from '../../../src/app/cli/main.js';
import { packageVersion } from '../../../src/app/cli/version.js';
import { spawnCli } from '../../e2e/cli-process.js';
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

  it('prints the usage on stdout and exits 0 without arguments, as --help does', async () => {
    const bare = captureIO();
    const help = captureIO();
    expect(await runCli([], bare)).toBe(0);
    expect(await runCli(['--help'], help)).toBe(0);
    expect(bare.stdout()).toContain('Usage: cubestream <command> [options]');
    expect(bare.stdout()).toContain('-V, --version');
    expect(bare.stdout()).toBe(help.stdout());
    expect(bare.stderr()).toBe('');
  });

  it('prints the package.json version with --version and exits 0', async () => {
    const io = captureIO();
    expect(await runCli(['--version'], io)).toBe(0);
    expect(io.stdout()).toBe(`cubestream ${pkg.version}\n`);
    expect(io.stderr()).toBe('');
  });

  it('takes -V after a sub-command, before its own options are checked', async () => {
    const io = captureIO();
    expect(await runCli(['run', '-V'], io)).toBe(0);
    expect(io.stdout()).toBe(`cubestream ${pkg.version}\n`);
    const withOptions = captureIO();
    expect(await runCli(['run', '--config', 'x.yaml', '-V'], withOptions)).toBe(0);
    expect(withOptions.stdout()).toBe(`cubestream ${pkg.version}\n`);
    expect(withOptions.stderr()).toBe('');
    const withBadOption = captureIO();
    expect(await runCli(['train', '--no-such-option', '--version'], withBadOption)).toBe(0);
    expect(withBadOption.stdout()).toBe(`cubestream ${pkg.version}\n`);
  });

  it('leaves -V after a `--` end-of-options marker to the command', async () => {
    const io = captureIO();
    expect(await runCli(['frobnicate', '--', '-V'], io)).toBe(2);
    expect(io.stdout()).toBe('');
  });

  it('reads the version from the nearest package.json above a module folder (src/ or dist/src/)', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'cubestream-version-'));
    try {
      const moduleDir = path.join(root, 'dist', 'src', 'app', 'cli');
      await mkdir(moduleDir, { recursive: true });
      await writeFile(
        path.join(root, 'package.json'),
        JSON.stringify({ name: 'cubestream', version: '9.8.7' }),
      );
      expect(packageVersion(moduleDir)).toBe('9.8.7');
      await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: 'cubestream' }));
      expect(() => packageVersion(moduleDir)).toThrow(/no package\.json with a version/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('as a process: `cubestream run --version` prints the version, bare `cubestream` the usage, both exit 0', async () => {
    const version = spawnCli(['run', '--version']);
    expect(await version.exited).toEqual({ code: 0, signal: null });
    expect(version.stdout()).toBe(`cubestream ${pkg.version}\n`);
    const bare = spawnCli([]);
    expect(await bare.exited).toEqual({ code: 0, signal: null });
    expect(bare.stdout()).toContain('Usage: cubestream <command> [options]');
    expect(bare.stderr()).toBe('');
  }, 30_000);
});
