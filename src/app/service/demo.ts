/**
 * `cubestream demo` (`npm start`): the whole service on embedded defaults, needing no broker and
 * no camera: the simulated line-scan camera -> the shipped demo model -> decisions on MQTT (an
 * embedded aedes broker on 127.0.0.1:1883 when that port is free, else the broker already
 * there), metrics on :9464, the live viewer on :8080, and a live one-line summary.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { validateConfig } from '../../core/validate.js';
import { createLogger, LOG_LEVEL_ENV, type Logger } from '../../telemetry/logger.js';
import { DEFAULT_HTTP_HOST } from '../http/listen.js';
import { DEMO_CAMERA, DEMO_EJECTOR, DEMO_PORTS, resolveDemoModelDir } from './demo-settings.js';
import { type EmbeddedBroker, isPortFree, startEmbeddedBroker } from './embedded-broker.js';
import { type RunConfig, type RunConfigInput, RunConfigSchema } from './run-config.js';
import { type RunningService, startService } from './service.js';
import type { StatsSnapshot } from './service-stats.js';
import { type SignalSource, superviseService } from './shutdown.js';
import { summaryLine } from './summary-line.js';

/** Options of {@link runDemo} (the demo's command line). */
export interface DemoOptions {
  /** Publish to this MQTT broker instead of the embedded one. */
  readonly mqtt?: string;
  /** Also publish to this NATS server (JetStream). */
  readonly nats?: string;
  /** Port of /metrics (default 9464, or a free one when 9464 is taken). */
  readonly metricsPort?: number;
  /** Port of the live viewer (default 8080, or a free one when 8080 is taken). */
  readonly viewerPort?: number;
  /**
   * Interface of /metrics and the viewer (default `127.0.0.1`, this machine only; `0.0.0.0` to
   * be reached from elsewhere, e.g. from outside a container).
   */
  readonly host?: string;
  /** Stop cleanly after this many seconds (default: run until SIGINT/SIGTERM). */
  readonly durationSeconds?: number;
  /** Seed of the simulated camera. */
  readonly seed: number;
  /** Port of the embedded broker (default 1883; tests use a free one). */
  readonly embeddedPort?: number;
  /** Log level of the JSON logs on stderr (default: env `CUBESTREAM_LOG_LEVEL`, else `warn`). */
  readonly logLevel?: string;
  /**
   * Also run an OPC UA server on this port, on 127.0.0.1 with security None and anonymous read
   * access (like the embedded broker: a demo on one machine; `run` configs are secured by default).
   */
  readonly opcuaPort?: number;
  /** Also run a Sparkplug B edge node on the decisions' broker (group `cubestream-demo`, node `demo`). */
  readonly sparkplug?: boolean;
}

/** The demo's Sparkplug B group and edge node ids. */
export const DEMO_SPARKPLUG = { groupId: 'cubestream-demo', edgeNodeId: 'demo' } as const;

/** Where the demo prints, and whether that is a terminal (the summary then redraws one line). */
export interface DemoIO {
  out(text: string): void;
  readonly isTTY: boolean;
}

/** Test seams of {@link runDemo}. */
export interface DemoDeps {
  /** Root logger (default: JSON on stderr). */
  readonly logger?: Logger;
  readonly signals?: SignalSource;
  readonly exit?: (code: number) => void;
  /** Seconds between summary lines when not on a terminal (default 5). */
  readonly summaryEverySeconds?: number;
}

/** Where decisions go in this demo run. */
interface MqttTarget {
  readonly url: string;
  readonly note: string;
  readonly embedded?: EmbeddedBroker;
}

const LOOPBACK = '127.0.0.1';

async function mqttTarget(options: DemoOptions): Promise<MqttTarget> {
  if (options.mqtt !== undefined) return { url: options.mqtt, note: `the broker at ${options.mqtt}` };
  const port = options.embeddedPort ?? DEMO_PORTS.mqtt;
  if (await isPortFree(LOOPBACK, port)) {
    try {
      const embedded = await startEmbeddedBroker({ host: LOOPBACK, port });
      return { url: embedded.url, note: `embedded broker (aedes, MQTT 3.1.1) on ${embedded.url}`, embedded };
    } catch {
      // Taken between the probe and the bind: use whatever took it.
    }
  }
  const url = `mqtt://${LOOPBACK}:${port}`;
  return { url, note: `the broker already listening on ${url}` };
}

/** The requested port, or 0 (a free one) when the default is taken on `host`; the note says so. */
async function choosePort(
  requested: number | undefined,
  fallback: number,
  what: string,
  host: string,
): Promise<[number, string]> {
  if (requested !== undefined) return [requested, ''];
  if (await isPortFree(host, fallback)) return [fallback, ''];
  return [0, `; ${what} port ${fallback} is taken, so a free one`];
}

/**
 * The run configuration of the demo.
 *
 * @example
 * ```ts
 * const { source } = demoConfig({ seed: 1 }, 'mqtt://127.0.0.1:1883', 9464, 8080);
 * if (source.kind === 'simulated') source.linesPerSecond; // 640
 * ```
 */
export function demoConfig(
  options: DemoOptions,
  mqttUrl: string,
  metricsPort: number,
  viewerPort: number,
): RunConfig {
  const input: RunConfigInput = {
    source: {
      kind: 'simulated',
      cameraId: DEMO_CAMERA.cameraId,
      width: DEMO_CAMERA.width,
      blockRows: DEMO_CAMERA.blockRows,
      linesPerSecond: DEMO_CAMERA.linesPerSecond,
      anomalyRate: DEMO_CAMERA.anomalyRate,
      seed: options.seed,
    },
    model: { path: resolveDemoModelDir() },
    sinks: {
      mqtt: { url: mqttUrl, protocol: 'auto', connectTimeoutMs: 5_000 },
      ...(options.nats === undefined ? {} : { nats: { servers: options.nats, connectTimeoutMs: 5_000 } }),
      ...(options.opcuaPort === undefined
        ? {}
        : {
            opcua: {
              port: options.opcuaPort,
              host: LOOPBACK,
              securityModes: ['None' as const],
              allowAnonymous: true,
              pkiDir: path.join(tmpdir(), 'cubestream-demo-pki'),
            },
          }),
      ...(options.sparkplug === true ? { sparkplug: { url: mqttUrl, ...DEMO_SPARKPLUG } } : {}),
    },
    // The demo belt has valves: eject commands flow on cubestream/<camera>/eject.
    ejector: { ...DEMO_EJECTOR },
    metrics: { port: metricsPort, ...(options.host === undefined ? {} : { host: options.host }) },
    viewer: { port: viewerPort, ...(options.host === undefined ? {} : { host: options.host }) },
    shutdown: { deadlineMs: 10_000 },
  };
  return validateConfig(RunConfigSchema, input, 'cubestream demo');
}

function banner(
  service: RunningService,
  config: RunConfig,
  target: MqttTarget,
  notes: string[],
  options: DemoOptions,
): string {
  const mqttUrl = new URL(target.url);
  const host = mqttUrl.hostname === '' ? LOOPBACK : mqttUrl.hostname;
  const port = mqttUrl.port === '' ? '1883' : mqttUrl.port;
  const prefix = config.sinks.mqtt?.topicPrefix ?? 'cubestream';
  const lines = [
    `cubestream demo: simulated line-scan camera ${DEMO_CAMERA.cameraId} (${DEMO_CAMERA.width} px, 61 bands, ${DEMO_CAMERA.linesPerSecond} lines/s, seed ${options.seed})`,
    `  model    ${service.modelVersion}, scored on ${service.scorer === 'onnx' ? `onnxruntime (fused graph, ${service.scorerWorkers > 0 ? `${service.scorerWorkers} worker threads` : 'main thread'}${service.earlyRows ? ', rows scored as the camera captures them' : ''})` : `tfjs-${service.engine.backend}`}`,
    `  MQTT     decisions on ${prefix}/${DEMO_CAMERA.cameraId}/decisions via ${target.note}`,
    `  watch    mosquitto_sub -h ${host} -p ${port} -t '${prefix}/#' -v`,
    `  ejects   ${prefix}/${DEMO_CAMERA.cameraId}/eject (valves 0.5 m down the belt)`,
  ];
  if (options.opcuaPort !== undefined) {
    lines.push(
      `  OPC UA   opc.tcp://${LOOPBACK}:${options.opcuaPort} (security None, anonymous): npx tsx scripts/opcua-watch.ts opc.tcp://${LOOPBACK}:${options.opcuaPort}`,
    );
  }
  if (options.sparkplug === true) {
    lines.push(
      `  Sparkplug spBv1.0/${DEMO_SPARKPLUG.groupId}/+/${DEMO_SPARKPLUG.edgeNodeId}/#: npx tsx scripts/sparkplug-watch.ts mqtt://${host}:${port}`,
    );
  }
  if (options.nats !== undefined) {
    lines.push(
      `  NATS     decisions on cubestream.decisions.${DEMO_CAMERA.cameraId} (JetStream) at ${options.nats}`,
    );
  }
  lines.push(
    `  metrics  curl -s ${service.telemetryUrl}/metrics | grep ^cubestream_   (listening on ${service.telemetryAddress}${notes[0] ?? ''})`,
  );
  if (service.viewerUrl !== undefined)
    lines.push(
      `  viewer   ${service.viewerUrl}   (listening on ${service.viewerAddress ?? '?'}${notes[1] ?? ''})`,
    );
  lines.push(
    options.durationSeconds === undefined
      ? '  stop     Ctrl-C'
      : `  stop     after ${options.durationSeconds} s (or Ctrl-C)`,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * Runs the demo until SIGINT/SIGTERM or `durationSeconds`, then stops cleanly; resolves with the
 * exit code (0 when every decision was published in time).
 *
 * @example
 * ```ts
 * process.exitCode = await runDemo({ seed: 1, durationSeconds: 30 }, { out: (t) => process.stdout.write(t), isTTY: true });
 * ```
 */
export async function runDemo(options: DemoOptions, io: DemoIO, deps: DemoDeps = {}): Promise<number> {
  const level = options.logLevel ?? process.env[LOG_LEVEL_ENV] ?? 'warn';
  const logger =
    deps.logger ?? createLogger({ level: level === '' ? 'warn' : level, destination: pino.destination(2) });
  const host = options.host ?? DEFAULT_HTTP_HOST;
  const [metricsPort, metricsNote] = await choosePort(
    options.metricsPort,
    DEMO_PORTS.metrics,
    'metrics',
    host,
  );
  const [viewerPort, viewerNote] = await choosePort(options.viewerPort, DEMO_PORTS.viewer, 'viewer', host);
  const target = await mqttTarget(options);
  let service: RunningService;
  let config: RunConfig;
  try {
    config = demoConfig(options, target.url, metricsPort, viewerPort);
    service = await startService(config, { logger });
  } catch (error) {
    await target.embedded?.close();
    throw error;
  }
  io.out(banner(service, config, target, [metricsNote, viewerNote], options));

  const started = Date.now();
  let previous: { at: number; stats: StatsSnapshot } | undefined;
  let onLine = false;
  const print = (final: boolean): void => {
    const now = Date.now();
    const stats = service.stats.snapshot();
    const base = previous ?? { at: started, stats: undefined };
    const line = summaryLine(
      final ? undefined : base.stats,
      stats,
      ((final ? now - started : now - base.at) || 1) / 1000,
    );
    previous = { at: now, stats };
    if (io.isTTY) {
      io.out(`\r\x1b[2K${line}${final ? '\n' : ''}`);
      onLine = !final;
    } else io.out(`${line}\n`);
  };
  const ticker = setInterval(() => print(false), io.isTTY ? 1_000 : (deps.summaryEverySeconds ?? 5) * 1_000);
  const duration =
    options.durationSeconds === undefined
      ? undefined
      : setTimeout(() => void service.stop('duration'), options.durationSeconds * 1_000);
  try {
    return await superviseService(service, {
      deadlineMs: config.shutdown.deadlineMs,
      logger,
      onSignal: () => {
        if (onLine) io.out('\n');
        onLine = false;
      },
      ...(deps.signals === undefined ? {} : { signals: deps.signals }),
      ...(deps.exit === undefined ? {} : { exit: deps.exit }),
    });
  } finally {
    clearInterval(ticker);
    clearTimeout(duration);
    print(true);
    await target.embedded?.close();
  }
}
