/**
 * The bearer tokens of `metrics.auth` and `viewer.auth`, resolved at start: inline, or read once
 * from `tokenFile` (a mounted secret) and trimmed.
 */
import { MIN_TOKEN_LENGTH } from '../http/bearer-token.js';
import type { HttpAuthConfig } from './http-config.js';
import { readSecretFile } from './secret-file.js';
import { AuthTokenError } from './service-errors.js';

/**
 * The token a section requires, or undefined when it has no `auth`.
 *
 * @param auth - the section's `auth`
 * @param field - its YAML path, e.g. `metrics.auth` (errors name `<field>.tokenFile`)
 * @throws `ServiceFileError` when `tokenFile` cannot be read or is empty
 * @throws {@link AuthTokenError} when it holds fewer than 16 characters (e.g. a placeholder)
 * @example
 * ```ts
 * const token = await resolveAuthToken(config.metrics.auth, 'metrics.auth');
 * ```
 */
export async function resolveAuthToken(
  auth: HttpAuthConfig | undefined,
  field: string,
): Promise<string | undefined> {
  if (auth === undefined) return undefined;
  if (auth.token !== undefined) return auth.token;
  const file = auth.tokenFile as string;
  const token = await readSecretFile(file, `${field}.tokenFile`);
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new AuthTokenError(
      `${field}.tokenFile`,
      `${file} holds a token of ${token.length} characters; at least ${MIN_TOKEN_LENGTH} are needed (e.g. openssl rand -hex 32)`,
    );
  }
  return token;
}
