/**
 * Fuzz tests of the run configuration loader (`loadRunConfig` in src/app/service/run-config.ts over
 * src/app/config/load-config.ts): any YAML file, and any mutation of configs/run/*.yaml, gives a
 * config or a `ConfigError` whose every issue names a path; never another exception.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadRunConfig, type RunConfig } from '../../src/app/service/run-config.js';
import { ConfigError } from '../../src/core/config-error.js';
import { REPO_ROOT } from '../e2e/cli-process.js';
import { expectNamedError, fuzzParameters, outcomeAsync } from './fuzz-settings.js';

const SHIPPED = ['demo.yaml', 'production.yaml'].map((name) =>
  readFileSync(join(REPO_ROOT, 'configs', 'run', name), 'utf8'),
);

let dir = '';
let runs = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-fuzz-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function parseYamlOrUndefined(text: string): unknown {
  try {
    return parseYaml(text, { logLevel: 'silent' });
  } catch {
    return undefined;
  }
}

/** Whether a parsed document has an own key `__proto__` at any depth. */
function hasProtoKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Object.hasOwn(value, '__proto__')) return true;
  return Object.values(value).some(hasProtoKey);
}

/**
 * Loads `text` as a run config file; allows only a config whose document really has its required
 * sections, or a ConfigError naming the file and a path for every issue.
 */
async function loadChecked(
  text: string,
  overrides: readonly string[] = [],
): Promise<RunConfig | ConfigError> {
  const file = join(dir, `run-${runs++}.yaml`);
  await writeFile(file, text);
  const result = await outcomeAsync(() => loadRunConfig(file, overrides));
  // Every section is strict: a "__proto__" key is an unknown key, never a way in for values.
  if (hasProtoKey(parseYamlOrUndefined(text))) expect(result.ok).toBe(false);
  if (!result.ok) {
    expectNamedError(result.error, ConfigError);
    // Named after the file, or the `--set` override at fault.
    const source = result.error.source;
    expect(source === file || source.startsWith('--set')).toBe(true);
    expect(result.error.message.startsWith(`${source}: invalid configuration\n`)).toBe(true);
    expect(result.error.issues.length).toBeGreaterThan(0);
    for (const issue of result.error.issues) expect(issue.path).toMatch(/\S/);
    return result.error;
  }
  // Accepted: the document itself names a source and a model (nothing inherited or invented).
  const document: unknown = parseYaml(text);
  expect(document).toBeTypeOf('object');
  const own = document as Record<string, unknown>;
  expect(Object.hasOwn(own, 'source') || overrides.some((o) => o.startsWith('source'))).toBe(true);
  expect(Object.hasOwn(own, 'model') || overrides.some((o) => o.startsWith('model'))).toBe(true);
  expect(Object.keys(result.value.source)).toContain('kind');
  return result.value;
}

/** YAML constructs that have broken loaders: aliases, tags, merge keys, prototype keys. */
const hostileYaml = fc.constantFrom(
  'a: *missing',
  'a: &x [1]\nb: *x',
  `a: &a [x,x,x,x,x,x,x,x,x]\n${Array.from({ length: 8 }, (_, i) => {
    const [name, prev] = [String.fromCharCode(98 + i), String.fromCharCode(97 + i)];
    return `${name}: &${name} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`;
  }).join('\n')}`,
  'a: !!binary aGVsbG8=',
  'a: !!set {x, y}',
  'a: !!omap [{x: 1}]',
  'a: !!timestamp 2001-12-14',
  'a: !custom x',
  'a: {<<: {b: 1}}',
  '__proto__: {source: {kind: simulated}, model: {path: m}}',
  'a: 1\n---\nb: 2',
  'a: 1\na: 2',
  'a: .inf',
  'a: .nan',
  'a: 0x1F',
  'a: 1e400',
  '? [a, b]\n: 1',
  `a: ${'['.repeat(3000)}${']'.repeat(3000)}`,
  `a: ${'{b: '.repeat(2000)}1${'}'.repeat(2000)}`,
  `a: \${HOME}`,
  `a: \${NOT_SET_ANYWHERE_42}`,
  'a: $${x}',
  `a: \${}`,
  '\t- x',
  '%YAML 1.1\n---\na: 1',
  '"\\u',
);

/** A value to put where a config expects something. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, -1, 0, 0.5, 65_536, 2 ** 53, 1e308, '', 'x', [], {}, ['cam0'], {
    kind: 'envi',
  }),
  fc.constantFrom(
    `\${NOT_SET_ANYWHERE_42}`,
    `\${A:-fallback}`,
    'mqtt://h:1883',
    '../shared/data',
    'cam$1',
    '_unknown',
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Every path (as keys) to a value of a parsed document. */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

type ConfigEdit =
  | { kind: 'set'; at: number; value: unknown }
  | { kind: 'delete'; at: number }
  | { kind: 'addKey'; at: number; key: string; value: unknown };

const configEdit: fc.Arbitrary<ConfigEdit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: hostileValue }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('addKey' as const),
    at: fc.nat(),
    key: fc.constantFrom('extra', '__proto__', 'constructor', 'kind', 'path', 'loop', 'cameraIds', 'url'),
    value: hostileValue,
  }),
);

/** Applies a structural edit to a parsed document (as own properties, even `__proto__`). */
function applyConfigEdit(document: unknown, edit: ConfigEdit): unknown {
  const all = paths(document);
  const path = all[edit.at % all.length] ?? [];
  if (path.length === 0) return edit.kind === 'set' ? edit.value : document;
  let parent = document as Record<string, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  const last = path[path.length - 1] as string;
  const define = (target: object, key: string, value: unknown) =>
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  if (edit.kind === 'set') define(parent, last, edit.value);
  else if (edit.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    const target = parent[last];
    if (typeof target === 'object' && target !== null && !Array.isArray(target))
      define(target, edit.key, edit.value);
  }
  return document;
}

type TextEdit =
  | { kind: 'deleteLine'; at: number }
  | { kind: 'insertLine'; at: number; line: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'indent'; at: number; by: number };

const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ kind: fc.constant('deleteLine' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insertLine' as const),
    at: fc.nat(),
    line: fc.oneof(
      hostileYaml,
      fc.string({ maxLength: 30 }),
      fc.constantFrom('  - x', '  : y', '- ', '&a', '*a'),
    ),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('indent' as const), at: fc.nat(), by: fc.integer({ min: -2, max: 3 }) }),
);

function applyTextEdit(text: string, edit: TextEdit): string {
  const lines = text.split('\n');
  const at = ('at' in edit ? edit.at : 0) % Math.max(1, lines.length);
  switch (edit.kind) {
    case 'deleteLine':
      lines.splice(at, 1);
      break;
    case 'insertLine':
      lines.splice(at, 0, edit.line);
      break;
    case 'truncate':
      return text.slice(0, edit.at % (text.length + 1));
    case 'indent': {
      const line = lines[at] ?? '';
      lines[at] = edit.by >= 0 ? `${' '.repeat(edit.by)}${line}` : line.slice(-edit.by);
      break;
    }
  }
  return lines.join('\n');
}

describe('fuzz: loadRunConfig', () => {
  it('the shipped configs load', async () => {
    for (const text of SHIPPED) expect(await loadChecked(text)).not.toBeInstanceOf(ConfigError);
  });

  it('arbitrary text: a config or ConfigError naming a path', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), hostileYaml), async (text) => {
        await loadChecked(text);
      }),
      fuzzParameters(400),
    );
  });

  it('arbitrary YAML documents: a config or ConfigError naming a path', async () => {
    const section = fc.dictionary(fc.constantFrom('kind', 'path', 'url', 'port', 'x'), hostileValue, {
      maxKeys: 3,
    });
    const document = fc.dictionary(
      fc.constantFrom(
        'source',
        'model',
        'pipeline',
        'sinks',
        'metrics',
        'viewer',
        'engine',
        'log',
        'shutdown',
        'other',
      ),
      fc.oneof(section, hostileValue),
      { maxKeys: 5 },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(document, fc.anything()), async (value) => {
        await loadChecked(stringifyYaml(value) ?? '');
      }),
      fuzzParameters(400),
    );
  });

  it('structural edits of configs/run/*.yaml: a config or ConfigError naming a path', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SHIPPED),
        fc.array(configEdit, { minLength: 1, maxLength: 3 }),
        async (text, edits) => {
          const edited = edits.reduce<unknown>(applyConfigEdit, parseYaml(text));
          await loadChecked(stringifyYaml(edited) ?? '');
        },
      ),
      fuzzParameters(500),
    );
  });

  it('text edits of configs/run/*.yaml: a config or ConfigError naming a path', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SHIPPED),
        fc.array(textEdit, { minLength: 1, maxLength: 3 }),
        async (text, edits) => {
          await loadChecked(edits.reduce(applyTextEdit, text));
        },
      ),
      fuzzParameters(500),
    );
  });

  it('--set overrides on a shipped config: a config or ConfigError naming a path', async () => {
    const key = fc.oneof(
      fc.constantFrom(
        'source.kind',
        'source.path',
        'metrics.port',
        'sinks.mqtt.url',
        'model',
        '__proto__.x',
        'a..b',
        '',
      ),
      fc
        .array(fc.constantFrom('source', 'sinks', 'mqtt', '__proto__', 'constructor', 'x', '0'), {
          minLength: 1,
          maxLength: 3,
        })
        .map((parts) => parts.join('.')),
    );
    const override = fc
      .tuple(key, fc.oneof(fc.string({ maxLength: 12 }), hostileYaml))
      .map(([k, v]) => `${k}=${v}`);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SHIPPED),
        fc.array(override, { minLength: 1, maxLength: 2 }),
        async (text, overrides) => {
          const result = await outcomeAsync(() => loadChecked(text, overrides));
          if (!result.ok) throw result.error;
        },
      ),
      fuzzParameters(300),
    );
  });
});
