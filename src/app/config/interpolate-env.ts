/**
 * `${NAME}` in a configuration's string values is replaced by the environment variable `NAME`,
 * so that secrets and per-host values stay out of the file: `password: ${MQTT_PASSWORD}`,
 * `url: mqtts://${BROKER_HOST}:8883`. `${NAME:-fallback}` uses `fallback` when `NAME` is unset
 * or empty; `$${` writes a literal `${`. Only string values are rewritten (the substituted text
 * stays a string, and is never parsed as YAML), and only after the file was parsed, so a value
 * cannot change the document's structure.
 */
import { ConfigError, type ConfigIssue } from '../../core/config-error.js';

/** `$${` (an escaped `${`), or `${NAME}` / `${NAME:-fallback}`. */
const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function interpolateString(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  path: string,
  issues: ConfigIssue[],
): string {
  return text.replace(REFERENCE, (match, body: string | undefined) => {
    if (body === undefined) return '${';
    const fallbackAt = body.indexOf(':-');
    const name = fallbackAt < 0 ? body : body.slice(0, fallbackAt);
    if (!NAME.test(name)) {
      issues.push({ path, message: `${match} is not a valid reference (\${NAME} or \${NAME:-fallback})` });
      return match;
    }
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallbackAt >= 0) return body.slice(fallbackAt + 2);
    issues.push({ path, message: `environment variable ${name} is not set (referenced as ${match})` });
    return match;
  });
}

function walk(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: string,
  issues: ConfigIssue[],
): unknown {
  if (typeof value === 'string')
    return value.includes('${') ? interpolateString(value, env, path, issues) : value;
  if (Array.isArray(value)) return value.map((item, index) => walk(item, env, `${path}.${index}`, issues));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty, not `out[key] =`: a YAML key "__proto__" must stay a key (that the
      // strict schema refuses), not become the prototype that lends the section its values.
      Object.defineProperty(out, key, {
        value: walk(item, env, path === '' ? key : `${path}.${key}`, issues),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/**
 * The names of the environment variables a parsed document references as `${NAME}` or
 * `${NAME:-fallback}` in its string values (an escaped `$${` references none).
 *
 * @example
 * ```ts
 * referencedVariables({ sinks: { mqtt: { url: 'mqtt://${BROKER:-localhost}:1883', password: '${MQTT_PASSWORD}' } } });
 * // Set { 'BROKER', 'MQTT_PASSWORD' }
 * ```
 */
export function referencedVariables(document: unknown): Set<string> {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const [, body] of value.matchAll(REFERENCE)) {
        if (body === undefined) continue;
        const fallbackAt = body.indexOf(':-');
        const name = fallbackAt < 0 ? body : body.slice(0, fallbackAt);
        if (NAME.test(name)) names.add(name);
      }
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const item of Object.values(value)) visit(item);
    }
  };
  visit(document);
  return names;
}

/**
 * Replaces `${NAME}` references in every string value of a parsed document.
 *
 * @param source - file name for the error
 * @throws {@link ConfigError} naming the path of every reference to an unset variable
 * @example
 * ```ts
 * interpolateEnv({ sinks: { mqtt: { password: '${MQTT_PASSWORD}' } } }, { MQTT_PASSWORD: 's3cret' }, 'run.yaml');
 * // { sinks: { mqtt: { password: 's3cret' } } }
 * ```
 */
export function interpolateEnv(
  document: unknown,
  env: Readonly<Record<string, string | undefined>>,
  source: string,
): unknown {
  const issues: ConfigIssue[] = [];
  const result = walk(document, env, '', issues);
  // A document that is one string has the empty path: name it as validateConfig does.
  const named = issues.map((issue) => (issue.path === '' ? { ...issue, path: '(root)' } : issue));
  if (named.length > 0) throw new ConfigError(source, named);
  return result;
}
