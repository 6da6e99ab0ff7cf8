/**
 * Drops the keys whose value is undefined: the connectors' option types are exact
 * (`exactOptionalPropertyTypes`-style), and config sections carry optional fields.
 *
 * @example
 * ```ts
 * defined({ url: 'mqtt://b', username: undefined }); // { url: 'mqtt://b' }
 * ```
 */
export function defined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
