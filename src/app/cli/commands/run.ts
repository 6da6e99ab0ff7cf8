import { createLogger } from '../../../telemetry/logger.js';
import { checkRunConfig, formatRunConfigCheck } from '../../config/check-run-config.js';
import { loadRunConfigWithEnv } from '../../config/run-config-env.js';
import { startService } from '../../service/service.js';
import { superviseService } from '../../service/shutdown.js';
import { type CliCommand, setOverrides, stringOption } from '../command.js';

/** Milliseconds a finished run waits for stray handles before it ends the process itself. */
const EXIT_GRACE_MS = 2_000;

/** Test seam of {@link createRunCommand}: how the process is ended once the service is done. */
export interface RunCommandDeps {
  /** Ends the process (default `process.exit`); also used when the shutdown deadline passes. */
  readonly exit?: (code: number) => void;
  /** The environment: `${NAME}` references and `CUBESTREAM_` configuration keys (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Builds `cubestream run`: loads and validates the run config (the file, then `CUBESTREAM_`
 * environment variables naming keys, then `--set`; errors name the YAML path or the variable;
 * exit 1), starts the service, logs JSON to stdout, and on SIGINT/SIGTERM stops the camera,
 * drains the pipeline, flushes the sinks and exits 0 within `shutdown.deadlineMs` (1 past it).
 * With `--check` it starts nothing: it checks the config, the files it names, the model bundle
 * and the bands (see `checkRunConfig`), prints a summary and exits 0, or lists every problem
 * and exits 1.
 */
export function createRunCommand(deps: RunCommandDeps = {}): CliCommand {
  const exit = deps.exit ?? ((code: number) => process.exit(code));
  const env = deps.env ?? process.env;
  return {
    name: 'run',
    summary:
      'Run the service: camera source -> Deep SVDD pipeline -> MQTT/NATS/file, with metrics and health',
    usage: `cubestream run --config FILE [--set key=value ...] [--check]
  --config FILE          run config (configs/run/*.yaml; configs/run/production.yaml documents every field)
  --set key=value        override a config value, e.g. --set metrics.port=9500 (repeatable)
  --check                check the config, the files it names, the model bundle and the bands
                         without starting anything; exit 0 with a summary, or 1 listing every problem
  env CUBESTREAM_<KEY>__<KEY>...=value  sets a config key, e.g. CUBESTREAM_SINKS__MQTT__URL=mqtt://plc:1883
                         (file < environment < --set; docs/configuration.md)`,
    options: {
      config: { type: 'string' },
      set: { type: 'string', multiple: true },
      check: { type: 'boolean' },
    },
    async run({ values }, io) {
      const file = stringOption(values, 'config', true);
      if (values.check === true) {
        const result = await checkRunConfig(file, { overrides: setOverrides(values), env });
        const report = formatRunConfigCheck(result);
        io.err(report.err);
        io.out(report.out);
        return result.summary === undefined ? 1 : 0;
      }
      const config = await loadRunConfigWithEnv(file, setOverrides(values), env, (warning) =>
        io.err(`cubestream run: warning: ${warning}\n`),
      );
      const logger = createLogger(config.log.level === undefined ? {} : { level: config.log.level });
      const service = await startService(config, { logger });
      const code = await superviseService(service, { deadlineMs: config.shutdown.deadlineMs, logger, exit });
      // Everything is closed; should a library still hold a handle, do not hang around for it.
      setTimeout(() => exit(code), EXIT_GRACE_MS).unref();
      return code;
    },
  };
}

/**
 * `cubestream run --config configs/run/<name>.yaml [--set k=v] [--check]`.
 *
 * @example
 * ```sh
 * cubestream run --config configs/run/production.yaml --set sinks.mqtt.url=mqtt://plc:1883
 * CUBESTREAM_SINKS__MQTT__URL=mqtt://plc:1883 cubestream run --config configs/run/production.yaml --check
 * ```
 */
export const runCommand: CliCommand = createRunCommand();
