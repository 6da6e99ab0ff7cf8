import { createLogger } from '../../../telemetry/logger.js';
import { loadRunConfig } from '../../service/run-config.js';
import { startService } from '../../service/service.js';
import { superviseService } from '../../service/shutdown.js';
import { type CliCommand, setOverrides, stringOption } from '../command.js';

/** Milliseconds a finished run waits for stray handles before it ends the process itself. */
const EXIT_GRACE_MS = 2_000;

/** Test seam of {@link createRunCommand}: how the process is ended once the service is done. */
export interface RunCommandDeps {
  /** Ends the process (default `process.exit`); also used when the shutdown deadline passes. */
  readonly exit?: (code: number) => void;
}

/**
 * Builds `cubestream run`: loads and validates the run config (errors name the YAML path; exit
 * 1), starts the service, logs JSON to stdout, and on SIGINT/SIGTERM stops the camera, drains
 * the pipeline, flushes the sinks and exits 0 within `shutdown.deadlineMs` (1 past it).
 */
export function createRunCommand(deps: RunCommandDeps = {}): CliCommand {
  const exit = deps.exit ?? ((code: number) => process.exit(code));
  return {
    name: 'run',
    summary:
      'Run the service: camera source -> Deep SVDD pipeline -> MQTT/NATS/file, with metrics and health',
    usage: `cubestream run --config FILE [--set key=value ...]
  --config FILE          run config (configs/run/*.yaml; configs/run/production.yaml documents every field)
  --set key=value        override a config value, e.g. --set metrics.port=9500 (repeatable)`,
    options: {
      config: { type: 'string' },
      set: { type: 'string', multiple: true },
    },
    async run({ values }) {
      const config = await loadRunConfig(stringOption(values, 'config', true), setOverrides(values));
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
 * `cubestream run --config configs/run/<name>.yaml [--set k=v]`.
 *
 * @example
 * ```sh
 * cubestream run --config configs/run/production.yaml --set sinks.mqtt.url=mqtt://plc:1883
 * ```
 */
export const runCommand: CliCommand = createRunCommand();
