/**
 * Regressions found by fuzzing the run-config loader (test/fuzz/run-config.test.ts): YAML the
 * library refuses to build, `__proto__` keys, and a document that is one string must all end in
 * a `ConfigError` naming a path.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interpolateEnv } from '../../../src/app/config/interpolate-env.js';
import { applyOverrides, parseConfigText } from '../../../src/app/config/load-config.js';
import { loadRunConfig } from '../../../src/app/service/run-config.js';
import { ConfigError } from '../../../src/core/config-error.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-config-hardening-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function configError(call: () => unknown): ConfigError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config loader on hostile YAML', () => {
  it('an alias without its anchor is a ConfigError, not a ReferenceError', () => {
    const error = configError(() => parseConfigText('a: *missing', 'run.yaml'));
    expect(error.issues).toEqual([
      { path: '(document)', message: 'Unresolved alias (the anchor must be set before the alias): missing' },
    ]);
  });

  it('an alias bomb is a ConfigError, not a ReferenceError', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const [name, prev] = [String.fromCharCode(97 + i), String.fromCharCode(96 + i)];
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const error = configError(() => parseConfigText(levels.join('\n'), 'run.yaml'));
    expect(error.issues[0]?.path).toBe('(document)');
    expect(error.message).toContain('Excessive alias count');
  });

  it('a "__proto__" key in a section is refused as unknown, not used as the prototype', async () => {
    // Before: interpolateEnv's copy made it the section's prototype, lending it `loop: true`.
    const file = join(dir, 'proto.yaml');
    await writeFile(file, 'source: {kind: envi, path: /x, __proto__: {loop: true}}\nmodel: {path: /m}\n');
    const error = await loadRunConfig(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      { path: 'source', message: 'Unrecognized key: "__proto__"' },
    ]);
    const copy = interpolateEnv(JSON.parse('{"a": {"__proto__": {"x": 1}}}'), {}, 'f') as {
      a: Record<string, unknown>;
    };
    expect(Object.keys(copy.a)).toEqual(['__proto__']);
    expect(copy.a.x).toBeUndefined();
  });

  it('a document that is one string with an unset variable names the path (root)', async () => {
    const file = join(dir, 'string.yaml');
    await writeFile(file, `\${CUBESTREAM_TEST_SURELY_UNSET}\n`);
    const error = await loadRunConfig(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]?.path).toBe('(root)');
  });

  it('an unknown YAML tag is a ConfigError naming its line, not a process warning', () => {
    const error = configError(() => parseConfigText('source: !custom {kind: envi}\n', 'run.yaml'));
    expect(error.issues[0]?.path).toBe('line 1, column 9');
    expect(error.issues[0]?.message).toContain('Unresolved tag: !custom');
  });

  it('--set refuses a key path through __proto__', () => {
    const error = configError(() => applyOverrides({}, ['__proto__.source.kind=envi']));
    expect(error.issues).toEqual([{ path: '__proto__.source.kind', message: 'is not a configuration key' }]);
  });
});
