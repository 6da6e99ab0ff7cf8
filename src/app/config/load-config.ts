import { readFile } from 'node:fs/promises';
import { parseDocument, YAMLError } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../../core/config-error.js';
import { validateConfig } from '../../core/validate.js';
import { interpolateEnv } from './interpolate-env.js';

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

/**
 * Reads a YAML file, replaces `${NAME}` references in its strings by environment variables (see
 * {@link interpolateEnv}), applies overrides and validates it against `schema`.
 *
 * @param env - the environment for `${NAME}` (default `process.env`)
 * @throws {@link ConfigError} naming the file and each bad path (or the unreadable file, or an
 *   unset variable)
 */
export async function loadConfigFile<S extends z.ZodType>(
  schema: S,
  path: string,
  overrides: readonly string[] = [],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(path, [{ path: '(file)', message: (cause as Error).message }], { cause });
  }
  const document = applyOverrides(interpolateEnv(parseConfigText(text, path), env, path), overrides);
  return validateConfig(schema, document, path);
}
