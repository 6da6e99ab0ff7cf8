/**
 * How `cubestream run` reads its configuration: the file, then `CUBESTREAM_<KEY>__<KEY>…`
 * environment variables (see `resolveEnvOverrides`), then `--set` overrides.
 */
import { ENGINE_BACKEND_ENV } from '../../scoring/engine.js';
import { LOG_LEVEL_ENV } from '../../telemetry/logger.js';
import { type RunConfig, RunConfigSchema } from '../service/run-config.js';
import { CONFIG_ENV_PREFIX, type EnvOverrideOptions } from './env-overrides.js';
import { loadConfigFile } from './load-config.js';

/**
 * The run configuration's environment variables: prefix `CUBESTREAM_`; `CUBESTREAM_LOG_LEVEL`
 * and `CUBESTREAM_BACKEND` keep their own meaning (the log level, the tfjs backend) and are
 * never configuration keys.
 */
export const RUN_CONFIG_ENV: EnvOverrideOptions = {
  prefix: CONFIG_ENV_PREFIX,
  reserved: [LOG_LEVEL_ENV, ENGINE_BACKEND_ENV],
};

/**
 * Reads and validates a run configuration as `cubestream run` does: the file, then the
 * `CUBESTREAM_` environment variables that name keys, then `--set` overrides.
 *
 * @param onWarning - told about each `CUBESTREAM_` variable that is ignored
 * @throws `ConfigError` naming the file and every bad path or variable
 * @example
 * ```ts
 * const config = await loadRunConfigWithEnv('configs/run/demo.yaml', ['metrics.port=0'], {
 *   CUBESTREAM_SINKS__MQTT__URL: 'mqtt://plc:1883',
 * });
 * config.sinks.mqtt?.url; // 'mqtt://plc:1883'
 * ```
 */
export function loadRunConfigWithEnv(
  path: string,
  overrides: readonly string[] = [],
  env: Readonly<Record<string, string | undefined>> = process.env,
  onWarning?: (message: string) => void,
): Promise<RunConfig> {
  return loadConfigFile(RunConfigSchema, path, overrides, env, {
    envOverrides: RUN_CONFIG_ENV,
    ...(onWarning === undefined ? {} : { onWarning }),
  });
}
