import { runDemo } from '../../service/demo.js';
import { type CliCommand, numberOption, stringOption } from '../command.js';

/**
 * `cubestream demo` (= `npm start`): the service on embedded defaults, no broker or camera needed.
 * `--embedded-port` (not in the help) moves the embedded broker off 1883, for tests.
 *
 * @example
 * ```sh
 * cubestream demo --duration 60 --seed 7
 * mosquitto_sub -h 127.0.0.1 -t 'cubestream/#' -v
 * ```
 */
export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'Run the whole service on embedded defaults: simulated camera -> model -> MQTT, metrics, viewer',
  usage: `cubestream demo [--mqtt URL] [--nats URL] [--opcua-port N] [--sparkplug] [--metrics-port N] [--viewer-port N] [--host ADDRESS] [--duration SECONDS] [--seed N]
  --mqtt URL             publish to this MQTT broker (default: an embedded one on 127.0.0.1:1883, or the broker already there)
  --nats URL             also publish to NATS (JetStream), e.g. nats://127.0.0.1:4222
  --opcua-port N         also an OPC UA server on 127.0.0.1:N (security None, anonymous read: a demo only)
  --sparkplug            also a Sparkplug B edge node on the decisions' broker (group cubestream-demo, node demo)
  --metrics-port N       Prometheus /metrics, /healthz, /readyz (default 9464)
  --viewer-port N        live viewer (default 8080)
  --host ADDRESS         interface of metrics and viewer (default 127.0.0.1; 0.0.0.0 in a container)
  --duration SECONDS     stop cleanly after this long (default: until Ctrl-C)
  --seed N               seed of the simulated camera (default 1)
  --log-level LEVEL      JSON logs on stderr (default warn)`,
  options: {
    mqtt: { type: 'string' },
    nats: { type: 'string' },
    'opcua-port': { type: 'string' },
    sparkplug: { type: 'boolean' },
    'metrics-port': { type: 'string' },
    'viewer-port': { type: 'string' },
    host: { type: 'string' },
    duration: { type: 'string' },
    seed: { type: 'string' },
    'embedded-port': { type: 'string' },
    'log-level': { type: 'string' },
  },
  async run({ values }, io) {
    const port = (name: string) => {
      const raw = stringOption(values, name);
      return raw === undefined
        ? undefined
        : numberOption(values, name, 0, { min: 0, max: 65_535, integer: true });
    };
    const duration = stringOption(values, 'duration');
    const mqtt = stringOption(values, 'mqtt');
    const nats = stringOption(values, 'nats');
    const metricsPort = port('metrics-port');
    const viewerPort = port('viewer-port');
    const embeddedPort = port('embedded-port');
    const opcuaPort = port('opcua-port');
    const logLevel = stringOption(values, 'log-level');
    const host = stringOption(values, 'host');
    const code = await runDemo(
      {
        seed: numberOption(values, 'seed', 1, { min: 0, max: 2 ** 32 - 1, integer: true }),
        ...(duration === undefined
          ? {}
          : { durationSeconds: numberOption(values, 'duration', 0, { min: 0.1 }) }),
        ...(mqtt === undefined ? {} : { mqtt }),
        ...(nats === undefined ? {} : { nats }),
        ...(metricsPort === undefined ? {} : { metricsPort }),
        ...(viewerPort === undefined ? {} : { viewerPort }),
        ...(host === undefined ? {} : { host }),
        ...(embeddedPort === undefined ? {} : { embeddedPort }),
        ...(opcuaPort === undefined ? {} : { opcuaPort }),
        ...(values.sparkplug === true ? { sparkplug: true } : {}),
        ...(logLevel === undefined ? {} : { logLevel }),
      },
      { out: (text) => io.out(text), isTTY: process.stdout.isTTY === true },
    );
    setTimeout(() => process.exit(code), 2_000).unref();
    return code;
  },
};
