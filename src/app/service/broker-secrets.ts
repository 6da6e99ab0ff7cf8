/**
 * Fills the broker credentials of a run configuration (and the OPC UA users' passwords) from
 * their files (`passwordFile`, `passFile`, `tokenFile`) before the source and sinks are built, so
 * that they take plain values.
 */
import type { RunConfig } from './run-config.js';
import { readSecretFile, SECRET_FILE_FIELDS } from './secret-file.js';

type Section = Record<string, unknown>;

async function resolveSection<T extends object>(section: T, path: string): Promise<T> {
  let resolved: Section = section as Section;
  for (const [valueField, fileField] of SECRET_FILE_FIELDS) {
    const file = resolved[fileField];
    if (typeof file !== 'string') continue;
    const { [fileField]: _file, ...rest } = resolved;
    resolved = { ...rest, [valueField]: await readSecretFile(file, `${path}.${fileField}`) };
  }
  return resolved as T;
}

/**
 * The configuration with every broker secret file read into its value field.
 *
 * @throws `ServiceFileError` naming the YAML path of a file that cannot be read or is empty
 * @example
 * ```ts
 * import { loadRunConfig } from './run-config.js';
 * const config = await resolveBrokerSecrets(await loadRunConfig('configs/run/production.yaml'));
 * ```
 */
export async function resolveBrokerSecrets(config: RunConfig): Promise<RunConfig> {
  const { mqtt, nats, opcua } = config.sinks;
  return {
    ...config,
    source: await resolveSection(config.source, 'source'),
    sinks: {
      ...config.sinks,
      ...(mqtt === undefined ? {} : { mqtt: await resolveSection(mqtt, 'sinks.mqtt') }),
      ...(nats === undefined ? {} : { nats: await resolveSection(nats, 'sinks.nats') }),
      ...(opcua === undefined
        ? {}
        : {
            opcua: {
              ...opcua,
              users: await Promise.all(
                opcua.users.map((user, i) => resolveSection(user, `sinks.opcua.users.${i}`)),
              ),
            },
          }),
    },
  };
}
