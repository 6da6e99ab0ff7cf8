/**
 * Configuration keys from environment variables: `CUBESTREAM_SINKS__MQTT__URL=mqtt://plc:1883`
 * sets `sinks.mqtt.url`, as `--set sinks.mqtt.url=mqtt://plc:1883` would. After the prefix, a
 * double underscore `__` separates the levels of the key; each level is matched against the
 * schema's keys ignoring case and single underscores, so `CONNECT_TIMEOUT_MS`, `CONNECTTIMEOUTMS`
 * and `connectTimeoutMs` all name `connectTimeoutMs`. Values are parsed as `--set` values are
 * (YAML scalars or flow collections: `9500`, `true`, `[a, b]`, `{url: mqtt://x}`); an empty value
 * counts as unset. docs/configuration.md describes the scheme with examples.
 *
 * A variable with the prefix that names no key is an error when it is plainly meant as one (it
 * holds `__`, or its first level names a section), else a warning; variables the project reads
 * otherwise (`CUBESTREAM_LOG_LEVEL`, `CUBESTREAM_BACKEND`), those a configuration references as
 * `${NAME}`, and the service-link variables Kubernetes defines for a Service named `cubestream`
 * are left alone.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../../core/config-error.js';

/** The prefix of the run configuration's environment variables. */
export const CONFIG_ENV_PREFIX = 'CUBESTREAM_';

/** What separates the levels of a key in a variable's name. */
export const ENV_LEVEL_SEPARATOR = '__';

/** Most single underscores tried as level separators for a "did you mean" hint. */
const MAX_HINT_UNDERSCORES = 12;

/**
 * The variables Kubernetes defines in every pod for a Service named `cubestream` (service links:
 * `CUBESTREAM_SERVICE_HOST`, `CUBESTREAM_SERVICE_PORT[_<name>]`, `CUBESTREAM_PORT[_<n>_TCP[_…]]`).
 */
const SERVICE_LINK =
  /^(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)$/;

/** One environment variable applied as a configuration key. */
export interface EnvOverride {
  /** The variable, e.g. `CUBESTREAM_SINKS__MQTT__URL`. */
  readonly variable: string;
  /** The dotted key it sets, spelled as the schema spells it, e.g. `sinks.mqtt.url`. */
  readonly path: string;
  /** The variable's value (text, parsed later as a `--set` value is). */
  readonly value: string;
}

/** What {@link resolveEnvOverrides} found in an environment. */
export interface EnvOverrideResolution {
  /** The overrides, shallower keys first (a deeper key then wins over a section set whole). */
  readonly overrides: readonly EnvOverride[];
  /** Variables meant as keys that name none (`path` is the variable). */
  readonly issues: readonly ConfigIssue[];
  /** Variables with the prefix that are neither keys nor read otherwise: ignored. */
  readonly warnings: readonly string[];
}

/** Options of {@link resolveEnvOverrides}. */
export interface EnvOverrideOptions {
  /** The variables' prefix (default {@link CONFIG_ENV_PREFIX}). */
  readonly prefix?: string;
  /** Variables with the prefix that the project reads otherwise: never keys, never warned about. */
  readonly reserved?: Iterable<string>;
}

/** A JSON Schema node, as `z.toJSONSchema` writes them (only what the key walk reads). */
interface JsonSchemaNode {
  readonly properties?: Readonly<Record<string, JsonSchemaNode>>;
  readonly additionalProperties?: boolean | JsonSchemaNode;
  readonly oneOf?: readonly JsonSchemaNode[];
  readonly anyOf?: readonly JsonSchemaNode[];
  readonly allOf?: readonly JsonSchemaNode[];
  readonly $ref?: string;
  readonly $defs?: Readonly<Record<string, JsonSchemaNode>>;
  readonly type?: string | readonly string[];
}

/** The keys a level offers, and whether it is an open map (a record) besides. */
interface Level {
  readonly keys: ReadonlyMap<string, readonly JsonSchemaNode[]>;
  readonly open: boolean;
}

/**
 * The variable that sets `path` (`sinks.mqtt.connectTimeoutMs` ->
 * `CUBESTREAM_SINKS__MQTT__CONNECT_TIMEOUT_MS`): each key in SCREAMING_SNAKE_CASE, levels
 * joined by `__`.
 *
 * @example
 * ```ts
 * envVariableFor('pipeline.backpressure.capacity'); // 'CUBESTREAM_PIPELINE__BACKPRESSURE__CAPACITY'
 * ```
 */
export function envVariableFor(path: string, prefix: string = CONFIG_ENV_PREFIX): string {
  const levels = path.split('.').map((key) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase());
  return `${prefix}${levels.join(ENV_LEVEL_SEPARATOR)}`;
}

/** A level's name in a comparable form: lower case, without underscores. */
function normalise(name: string): string {
  return name.replaceAll('_', '').toLowerCase();
}

function isObjectType(node: JsonSchemaNode): boolean {
  return node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object'));
}

/** The keys of the object branches of `nodes` (through `oneOf`, `anyOf`, `allOf`, `$ref`). */
function levelOf(nodes: readonly JsonSchemaNode[], root: JsonSchemaNode): Level {
  const keys = new Map<string, JsonSchemaNode[]>();
  let open = false;
  const visit = (node: JsonSchemaNode, depth: number): void => {
    if (depth > 32) return;
    if (node.$ref?.startsWith('#/$defs/') === true) {
      const target = root.$defs?.[node.$ref.slice('#/$defs/'.length)];
      if (target !== undefined) visit(target, depth + 1);
    }
    for (const branch of [...(node.oneOf ?? []), ...(node.anyOf ?? []), ...(node.allOf ?? [])])
      visit(branch, depth + 1);
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const list = keys.get(key) ?? [];
      list.push(child);
      keys.set(key, list);
    }
    const extra = node.additionalProperties;
    if (typeof extra === 'object' || (isObjectType(node) && extra !== false && node.properties === undefined))
      open = true;
  };
  for (const node of nodes) visit(node, 0);
  return { keys, open };
}

/** The key path `levels` names, or why it names none. */
function resolveLevels(
  levels: readonly string[],
  root: JsonSchemaNode,
  prefix: string,
): { readonly path: string[] } | { readonly problem: string } {
  const path: string[] = [];
  let nodes: readonly JsonSchemaNode[] = [root];
  for (const level of levels) {
    const where = path.length === 0 ? 'the configuration' : path.join('.');
    if (level === '') return { problem: `has an empty level after ${where} (levels are separated by "__")` };
    const { keys, open } = levelOf(nodes, root);
    const matches = [...keys.keys()].filter((key) => normalise(key) === normalise(level));
    if (matches.length > 1) {
      return { problem: `"${level}" is ambiguous in ${where} (${matches.join(', ')}): use --set` };
    }
    const [key] = matches;
    if (key === undefined) {
      if (open && keys.size === 0) {
        return {
          problem: `${where} is a map whose keys a variable's name cannot spell: set it whole, e.g. ${envVariableFor(where, prefix)}='{Name: value}'`,
        };
      }
      const known = [...keys.keys()].sort().join(', ');
      return { problem: `${where} has no key "${level}"${known === '' ? '' : ` (keys: ${known})`}` };
    }
    path.push(key);
    nodes = keys.get(key) ?? [];
  }
  return { path };
}

/**
 * The key path a name resolves to when its single underscores are read as level separators
 * (`METRICS_PORT` -> `metrics.port`), for a hint; undefined when none or too many to try.
 */
function guessLevels(rest: string, root: JsonSchemaNode, prefix: string): string | undefined {
  const parts = rest.split('_');
  const gaps = parts.length - 1;
  if (gaps < 1 || gaps > MAX_HINT_UNDERSCORES) return undefined;
  // Fewest levels first: a split that keeps words together is the likelier intent.
  const masks = Array.from({ length: 2 ** gaps }, (_, mask) => mask).sort(
    (a, b) => bitCount(a) - bitCount(b) || a - b,
  );
  for (const mask of masks) {
    if (mask === 0) continue;
    const levels: string[] = [parts[0] ?? ''];
    for (let gap = 0; gap < gaps; gap++) {
      const part = parts[gap + 1] ?? '';
      if ((mask >> gap) & 1) levels.push(part);
      else levels[levels.length - 1] += `_${part}`;
    }
    const resolved = resolveLevels(levels, root, prefix);
    if ('path' in resolved) return levels.join(ENV_LEVEL_SEPARATOR);
  }
  return undefined;
}

function bitCount(value: number): number {
  let count = 0;
  for (let v = value; v > 0; v >>= 1) count += v & 1;
  return count;
}

/**
 * The JSON Schema of a configuration as written (its input side), the map the variables'
 * names are resolved on.
 */
function inputJsonSchema(schema: z.ZodType): JsonSchemaNode {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
}

/**
 * Finds the variables of `env` that set configuration keys of `schema`: `<prefix>` then the
 * key's levels separated by `__`, each matched ignoring case and single underscores.
 *
 * @param referenced - variables the configuration file references as `${NAME}` (not keys)
 * @example
 * ```ts
 * import { z } from 'zod';
 * const Schema = z.strictObject({ sinks: z.strictObject({ mqtt: z.strictObject({ connectTimeoutMs: z.number() }) }) });
 * resolveEnvOverrides(Schema, { CUBESTREAM_SINKS__MQTT__CONNECT_TIMEOUT_MS: '2000' });
 * // { overrides: [{ variable: 'CUBESTREAM_SINKS__MQTT__CONNECT_TIMEOUT_MS', path: 'sinks.mqtt.connectTimeoutMs', value: '2000' }], issues: [], warnings: [] }
 * ```
 */
export function resolveEnvOverrides(
  schema: z.ZodType,
  env: Readonly<Record<string, string | undefined>>,
  options: EnvOverrideOptions = {},
  referenced: ReadonlySet<string> = new Set(),
): EnvOverrideResolution {
  const prefix = options.prefix ?? CONFIG_ENV_PREFIX;
  const reserved = new Set(options.reserved ?? []);
  const names = Object.keys(env)
    .filter((name) => name.startsWith(prefix) && !reserved.has(name) && !referenced.has(name))
    .sort();
  if (names.length === 0) return { overrides: [], issues: [], warnings: [] };
  const root = inputJsonSchema(schema);
  const sections = [...levelOf([root], root).keys.keys()];
  const overrides: EnvOverride[] = [];
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  for (const variable of names) {
    const value = env[variable];
    const rest = variable.slice(prefix.length);
    if (value === undefined || value === '' || SERVICE_LINK.test(rest)) continue;
    const levels = rest.split(ENV_LEVEL_SEPARATOR);
    const first = levels[0] ?? '';
    const meantAsKey =
      levels.length > 1 || sections.some((section) => normalise(section) === normalise(first));
    const resolved = resolveLevels(levels, root, prefix);
    if ('path' in resolved) {
      overrides.push({ variable, path: resolved.path.join('.'), value });
    } else if (meantAsKey) {
      issues.push({ path: variable, message: `is not a configuration key: ${resolved.problem}` });
    } else {
      const guess = guessLevels(rest, root, prefix);
      warnings.push(
        `${variable} is neither a configuration key nor a variable cubestream reads: ignored ` +
          (guess === undefined
            ? `(levels of a key are separated by "__", e.g. ${prefix}SINKS__MQTT__URL)`
            : `(did you mean ${prefix}${guess}? levels of a key are separated by "__")`),
      );
    }
  }
  // Two variables for one key (names differing in case or underscores): neither wins silently.
  const byPath = new Map<string, string[]>();
  for (const override of overrides)
    byPath.set(override.path, [...(byPath.get(override.path) ?? []), override.variable]);
  for (const [path, variables] of byPath) {
    if (variables.length > 1) {
      for (const variable of variables)
        issues.push({
          path: variable,
          message: `sets ${path}, as ${variables.filter((v) => v !== variable).join(', ')} does: keep one`,
        });
    }
  }
  const kept = overrides.filter((override) => (byPath.get(override.path)?.length ?? 0) === 1);
  kept.sort((a, b) => a.path.split('.').length - b.path.split('.').length || a.path.localeCompare(b.path));
  return { overrides: kept, issues, warnings };
}
