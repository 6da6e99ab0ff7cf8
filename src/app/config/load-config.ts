import { readFile } from 'node:fs/promises';
import { parseDocument, YAMLError } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../../core/config-error.js';
import { validateConfig } from '../../core/validate.js';
import { type EnvOverride, type EnvOverrideOptions, resolveEnvOverrides } from './env-overrides.js';
import { interpolateEnv, referencedVariables } from './interpolate-env.js';

/**
 * Parses YAML text; a syntax error becomes a {@link ConfigError} with line and column, and so
 * does a document the YAML library refuses to build (an alias to a missing anchor, an alias
 * bomb, nesting too deep), at path `(document)`.
 */
export function parseConfigText(text: string, source: string): unknown {
  try {
    const document = parseDocument(text, { prettyErrors: true, strict: true, uniqueKeys: true });
    // An unknown tag (`!custom`) is only a warning to the yaml library: here it is an error.
    const [problem] = [...document.errors, ...document.warnings];
    if (problem !== undefined) throw problem;
    return document.toJS() ?? {};
  } catch (cause) {
    throw new ConfigError(source, [yamlIssue(cause)], { cause });
  }
}

/** The {@link ConfigIssue} of an error thrown while parsing YAML. */
function yamlIssue(cause: unknown): ConfigIssue {
  if (cause instanceof YAMLError) {
    const [line, col] = cause.linePos?.[0] ? [cause.linePos[0].line, cause.linePos[0].col] : [0, 0];
    return {
      path: `line ${line}, column ${col}`,
      message: cause.message.split('\n')[0] ?? 'YAML syntax error',
    };
  }
  // yaml throws ReferenceError for an alias without its anchor and for an excessive alias count
  // (an alias bomb), RangeError when nesting overflows the stack: all the document's fault.
  return { path: '(document)', message: cause instanceof Error ? cause.message : String(cause) };
}

/**
 * Applies `key.path=value` overrides (the `--set` flag) to a parsed document. Values are YAML
 * scalars or flow collections (`3`, `true`, `[1, 2]`, `{a: 1}`, `text`); missing objects on the
 * path are created.
 *
 * @throws {@link ConfigError} for an override without `=` or an empty key
 * @example
 * ```ts
 * const doc = parseConfigText('trainer: { epochs: 50 }', 'configs/trainrun/lentils.yaml');
 * applyOverrides(doc, ['trainer.epochs=5', 'model.hidden=64']); // { trainer: { epochs: 5 }, model: { hidden: 64 } }
 * ```
 */
export function applyOverrides(document: unknown, overrides: readonly string[], source = '--set'): unknown {
  const root: Record<string, unknown> =
    typeof document === 'object' && document !== null && !Array.isArray(document)
      ? { ...(document as Record<string, unknown>) }
      : {};
  for (const override of overrides) {
    const eq = override.indexOf('=');
    const key = eq < 0 ? '' : override.slice(0, eq).trim();
    if (eq < 0 || key === '' || key.split('.').some((part) => part === '')) {
      throw new ConfigError(source, [{ path: override, message: 'must be key.path=value' }]);
    }
    if (key.split('.').includes('__proto__')) {
      // Assigning "__proto__" would swap an object's prototype instead of setting a key.
      throw new ConfigError(source, [{ path: key, message: 'is not a configuration key' }]);
    }
    const value = parseConfigText(override.slice(eq + 1), `${source} ${key}`);
    const parts = key.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      const copy =
        typeof next === 'object' && next !== null && !Array.isArray(next)
          ? { ...(next as Record<string, unknown>) }
          : {};
      node[part] = copy;
      node = copy;
    }
    node[parts[parts.length - 1] as string] = value;
  }
  return root;
}

/** Options of {@link loadConfigFile} and {@link readConfigDocument} beyond the overrides. */
export interface LoadConfigOptions {
  /**
   * Take configuration keys from environment variables too (`CUBESTREAM_SINKS__MQTT__URL`, see
   * {@link resolveEnvOverrides}): the file, then the variables, then the overrides. Absent: none.
   */
  readonly envOverrides?: EnvOverrideOptions;
  /** Told each warning (a variable with the prefix that names no key and is ignored). */
  readonly onWarning?: (message: string) => void;
}

/** A configuration read and merged (file < environment < overrides), not yet validated. */
export interface ConfigDocument {
  /** The file it was read from (errors name it). */
  readonly source: string;
  /** The merged document. */
  readonly document: unknown;
  /** The environment variables applied and not overridden by an override, shallower keys first. */
  readonly env: readonly EnvOverride[];
  /** Environment variables that could not be applied, each named as its `path`. */
  readonly issues: readonly ConfigIssue[];
  /** Environment variables ignored, with why. */
  readonly warnings: readonly string[];
}

/**
 * Reads a YAML file, replaces `${NAME}` references in its strings (see {@link interpolateEnv}),
 * applies the environment's configuration keys when `options.envOverrides` is given, then the
 * overrides; validates nothing. A variable that names no key, or whose value is not YAML, is
 * listed in `issues` (the rest still apply), so that a caller can report every problem at once.
 *
 * @throws {@link ConfigError} for an unreadable file, bad YAML, an unset `${NAME}`, a malformed override
 * @example
 * ```ts
 * import { RunConfigSchema } from '../service/run-config.js';
 * const read = await readConfigDocument(RunConfigSchema, 'configs/run/demo.yaml', ['metrics.port=0'], process.env, {
 *   envOverrides: { prefix: 'CUBESTREAM_' },
 * });
 * read.env; // e.g. [{ variable: 'CUBESTREAM_SINKS__MQTT__URL', path: 'sinks.mqtt.url', value: 'mqtt://plc:1883' }]
 * ```
 */
export async function readConfigDocument(
  schema: z.ZodType,
  path: string,
  overrides: readonly string[] = [],
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: Pick<LoadConfigOptions, 'envOverrides'> = {},
): Promise<ConfigDocument> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(path, [{ path: '(file)', message: (cause as Error).message }], { cause });
  }
  const parsed = parseConfigText(text, path);
  let document = interpolateEnv(parsed, env, path);
  const issues: ConfigIssue[] = [];
  const applied: EnvOverride[] = [];
  let warnings: readonly string[] = [];
  if (options.envOverrides !== undefined) {
    const found = resolveEnvOverrides(schema, env, options.envOverrides, referencedVariables(parsed));
    issues.push(...found.issues);
    warnings = found.warnings;
    for (const override of found.overrides) {
      try {
        document = applyOverrides(document, [`${override.path}=${override.value}`], override.variable);
        applied.push(override);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        const problem = error.issues.map((issue) => issue.message).join('; ');
        issues.push({ path: override.variable, message: `cannot set ${override.path}: ${problem}` });
      }
    }
  }
  // A variable whose key an override sets again is applied, but what counts is the override's.
  const setKeys = overrides.map((override) => override.slice(0, Math.max(override.indexOf('='), 0)).trim());
  const effective = applied.filter(
    (o) => !setKeys.some((key) => o.path === key || o.path.startsWith(`${key}.`)),
  );
  return { source: path, document: applyOverrides(document, overrides), env: effective, issues, warnings };
}

/** The outcome of {@link configIssues}: the valid configuration, or every issue. */
export type ConfigCheck<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly issues: readonly ConfigIssue[];
      /** The configuration when only environment variables were at fault (the schema took the rest). */
      readonly partial?: T;
    };

/**
 * Validates a {@link ConfigDocument} against `schema` without throwing: its environment issues,
 * then every schema issue (one set by an environment variable names it).
 *
 * @example
 * ```ts
 * import { RunConfigSchema } from '../service/run-config.js';
 * const read = await readConfigDocument(RunConfigSchema, 'configs/run/demo.yaml');
 * const checked = configIssues(RunConfigSchema, read);
 * if (!checked.ok) for (const issue of checked.issues) console.error(`${issue.path}: ${issue.message}`);
 * ```
 */
export function configIssues<S extends z.ZodType>(schema: S, read: ConfigDocument): ConfigCheck<z.output<S>> {
  const result = schema.safeParse(read.document);
  if (result.success) {
    return read.issues.length === 0
      ? { ok: true, value: result.data }
      : { ok: false, issues: read.issues, partial: result.data };
  }
  const schemaIssues = result.error.issues.map((issue): ConfigIssue => {
    const path = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    const from = read.env.find((o) => path === o.path || path.startsWith(`${o.path}.`));
    return {
      path,
      message: from === undefined ? issue.message : `${issue.message} (set by ${from.variable})`,
    };
  });
  return { ok: false, issues: [...read.issues, ...schemaIssues] };
}

/**
 * Reads a YAML file, replaces `${NAME}` references in its strings by environment variables (see
 * {@link interpolateEnv}), applies the environment's configuration keys (with
 * `options.envOverrides`, see {@link resolveEnvOverrides}), then the overrides, and validates
 * it against `schema`. Precedence: file < environment < overrides.
 *
 * @param env - the environment for `${NAME}` and the configuration keys (default `process.env`)
 * @throws {@link ConfigError} naming the file and each bad path (or the unreadable file, an
 *   unset variable, a `CUBESTREAM_` variable that names no key)
 */
export async function loadConfigFile<S extends z.ZodType>(
  schema: S,
  path: string,
  overrides: readonly string[] = [],
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: LoadConfigOptions = {},
): Promise<z.output<S>> {
  const read = await readConfigDocument(schema, path, overrides, env, options);
  for (const warning of read.warnings) options.onWarning?.(warning);
  // Nothing from the environment: the plain validation (its error keeps zod's as the cause).
  if (read.env.length === 0 && read.issues.length === 0) return validateConfig(schema, read.document, path);
  const checked = configIssues(schema, read);
  if (!checked.ok) throw new ConfigError(path, checked.issues);
  return checked.value;
}
