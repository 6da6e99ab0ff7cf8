/**
 * Secrets read from files (a mounted Kubernetes Secret, a Docker secret), so that no password or
 * token needs to sit in a config file: `passwordFile`, `passFile`, `tokenFile`.
 */
import { readFile } from 'node:fs/promises';
import { ServiceFileError } from './service-errors.js';

/** The broker secrets a config may give inline or as a file: `[value field, file field]`. */
export const SECRET_FILE_FIELDS = [
  ['password', 'passwordFile'],
  ['pass', 'passFile'],
  ['token', 'tokenFile'],
] as const;

/**
 * Reads a secret file once, at start; surrounding whitespace (the newline an editor or
 * `kubectl create secret --from-file` leaves) is trimmed.
 *
 * @param file - the configured path
 * @param field - its YAML path, for the error
 * @throws {@link ServiceFileError} naming the setting when the file cannot be read or is empty
 * @example
 * ```ts
 * const password = await readSecretFile('/run/secrets/mqtt-password', 'sinks.mqtt.passwordFile');
 * ```
 */
export async function readSecretFile(file: string, field: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ServiceFileError(field, file, error);
  }
  const secret = text.trim();
  if (secret === '') throw new ServiceFileError(field, file, new Error('the file is empty'));
  return secret;
}
