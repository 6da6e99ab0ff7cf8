import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { applyOverrides, loadConfigFile } from '../../../src/app/config/load-config.js';
import { ConfigError } from '../../../src/core/config-error.js';
import { validateConfig } from '../../../src/core/validate.js';

const Schema = z.strictObject({
  name: z.string(),
  threshold: z.strictObject({ q: z.number().gt(0).lt(1), window: z.number().int().positive().default(100) }),
});

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('config loading', () => {
  it('loads, defaults and overrides a YAML file', async () => {
    const path = join(dir, 'ok.yaml');
    await writeFile(path, 'name: demo\nthreshold:\n  q: 0.99\n');
    expect(await loadConfigFile(Schema, path)).toEqual({ name: 'demo', threshold: { q: 0.99, window: 100 } });
    expect(await loadConfigFile(Schema, path, ['threshold.window=7', 'name=other'])).toEqual({
      name: 'other',
      threshold: { q: 0.99, window: 7 },
    });
  });

  it('names every bad path', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'name: 3\nthreshold:\n  q: 2\n  extra: 1\n');
    const error = await loadConfigFile(Schema, path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain(`${path}: invalid configuration`);
    expect(message).toMatch(/ {2}name: .*expected string/i);
    expect(message).toMatch(/ {2}threshold\.q: .*<1/);
    expect(message).toMatch(/ {2}threshold: .*extra/);
  });

  it('reports YAML syntax errors with line and column', async () => {
    const path = join(dir, 'syntax.yaml');
    await writeFile(path, 'name: demo\nthreshold: [1, 2\n');
    await expect(loadConfigFile(Schema, path)).rejects.toThrow(/line \d+, column \d+/);
  });

  it('reports a missing file', async () => {
    await expect(loadConfigFile(Schema, join(dir, 'nope.yaml'))).rejects.toThrow(
      /nope\.yaml: invalid configuration\n {2}\(file\): ENOENT/,
    );
  });

  it('rejects a malformed override', () => {
    expect(() => applyOverrides({}, ['novalue'])).toThrow(
      /--set: invalid configuration\n {2}novalue: must be key.path=value/,
    );
    expect(() => applyOverrides({}, ['a..b=1'])).toThrow(ConfigError);
    expect(applyOverrides({ a: { b: 1 } }, ['a.c=[1, 2]'])).toEqual({ a: { b: 1, c: [1, 2] } });
  });

  it('validateConfig reports the root path', () => {
    expect(() => validateConfig(Schema, 5, 'inline')).toThrow(/ {2}\(root\): /);
  });
});
