/**
 * The Grafana dashboard and the alert rules of deploy/ against a real Prometheus (Debian's
 * `prometheus` binary) scraping a real service every second: every template variable resolves,
 * every panel expression returns data, and no alert is pending or firing on a healthy run, for
 * the demo's simulated camera and for frames arriving over MQTT. On the MQTT run the broker is
 * then stopped, and the source and sink alerts go pending in Prometheus.
 *
 * Skipped with a message when /usr/bin/prometheus is missing, unless CI=true (then it fails).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { encodeFrameMessage } from '../../connectors/codec/frame-safetensors.js';
import { createLineScanSimulator } from '../../connectors/sources/simulator/line-scan-simulator.js';
import { DEMO_CAMERA, DEMO_EJECTOR, resolveDemoModelDir } from '../../src/app/service/demo-settings.js';
import { type RunConfigInput, RunConfigSchema } from '../../src/app/service/run-config.js';
import { type RunningService, startService } from '../../src/app/service/service.js';
import { validateConfig } from '../../src/core/validate.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { asArray, asRecord, deployPath, inCi } from '../deploy/deploy-files.js';
import { freePort, MOSQUITTO_BIN, startMosquitto, type TestBroker, waitForPort } from '../helpers/brokers.js';

const PROMETHEUS_BIN = '/usr/bin/prometheus';
const DASHBOARD = deployPath('grafana', 'dashboards', 'cubestream.json');
const ALERT_RULES = deployPath('prometheus', 'alerts.yml');

const present = existsSync(PROMETHEUS_BIN);
if (!present && !inCi) {
  console.warn(
    `test/e2e/prometheus-dashboard.test.ts skipped: ${PROMETHEUS_BIN} not installed ` +
      '(apt-get install -y --no-install-recommends prometheus); under CI=true this fails instead.',
  );
}
const mosquittoPresent = existsSync(MOSQUITTO_BIN);
if (present && !mosquittoPresent && !inCi) {
  console.warn(`test/e2e/prometheus-dashboard.test.ts: MQTT case skipped, ${MOSQUITTO_BIN} not installed`);
}

/**
 * Grafana's built-in interval variables as Grafana sets them for a 1 s scrape interval
 * ($__rate_interval is at least 4 scrape intervals; 10 s holds about ten samples).
 */
const GRAFANA_INTERVALS: Readonly<Record<string, string>> = {
  __rate_interval: '10s',
  __interval: '2s',
  __range: '5m',
};

/** Always-on rules beside deploy's: proof that the alert check sees pending and firing alerts. */
const CANARY_RULES = {
  groups: [
    {
      name: 'test-canary',
      rules: [
        { alert: 'TestCanaryFiring', expr: 'vector(1)', labels: { severity: 'none' } },
        { alert: 'TestCanaryPending', expr: 'vector(1)', for: '1h', labels: { severity: 'none' } },
      ],
    },
  ],
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` (errors count as "not yet") until it returns true; rejects naming `what` after `timeoutMs`. */
async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await sleep(250);
  }
}

/** One sample of an instant vector. */
interface Sample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

/** One alert of /api/v1/alerts. */
interface Alert {
  readonly labels: Record<string, string>;
  readonly state: string;
}

/** One rule of /api/v1/rules. */
interface Rule {
  readonly name: string;
  readonly health: string;
  readonly lastError?: string;
  readonly state?: string;
}

/** One rule group of /api/v1/rules. */
interface RuleGroup {
  readonly name: string;
  readonly lastEvaluation: string;
  readonly rules: readonly Rule[];
}

/** A running Prometheus and its HTTP API. */
interface Prometheus {
  readonly url: string;
  query(expr: string): Promise<Sample[]>;
  labelValues(label: string, match: string): Promise<string[]>;
  alerts(): Promise<Alert[]>;
  ruleGroups(): Promise<RuleGroup[]>;
  stop(): Promise<void>;
}

async function api(url: string): Promise<unknown> {
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; data?: unknown; error?: string };
  if (body.status !== 'success') throw new Error(`${url}: ${body.error ?? res.status}`);
  return body.data;
}

/**
 * Starts Prometheus on a free port of 127.0.0.1, scraping `target` (job `cubestream`) every
 * second and evaluating deploy's alert rules (plus the canaries) every second, with its TSDB in
 * a temp dir, one Go thread and a 256 MiB soft memory limit. Resolves once /-/ready answers.
 */
async function startPrometheus(target: string): Promise<Prometheus> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-prometheus-'));
  const port = await freePort();
  const canaries = path.join(dir, 'canary.yml');
  await writeFile(canaries, stringify(CANARY_RULES));
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(
    configFile,
    stringify({
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      rule_files: [ALERT_RULES, canaries],
      scrape_configs: [{ job_name: 'cubestream', static_configs: [{ targets: [target] }] }],
    }),
  );
  const logFile = path.join(dir, 'prometheus.log');
  const log = openSync(logFile, 'a');
  const proc: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      '--storage.tsdb.retention.time=1h',
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.max-connections=16',
      '--query.max-concurrency=2',
      '--log.level=warn',
    ],
    { stdio: ['ignore', log, log], env: { ...process.env, GOMAXPROCS: '1', GOMEMLIMIT: '256MiB' } },
  );
  closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const stop = async (): Promise<void> => {
    if (running()) {
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 20_000, running);
    await waitUntil(async () => (await fetch(`${url}/-/ready`)).ok, 'Prometheus /-/ready', 20_000);
  } catch (error) {
    const output = await readFile(logFile, 'utf8').catch(() => '');
    await stop();
    throw new Error(`Prometheus did not start: ${String(error)}\n${output}`);
  }
  return {
    url,
    async query(expr) {
      const data = asRecord(await api(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`), 'query');
      if (data.resultType === 'scalar') {
        const [, value] = asArray(data.result, 'result');
        return [{ metric: {}, value: Number(value) }];
      }
      return asArray(data.result, 'result').map((item) => {
        const sample = asRecord(item, 'sample');
        const [, value] = asArray(sample.value, 'value');
        return { metric: asRecord(sample.metric, 'metric') as Record<string, string>, value: Number(value) };
      });
    },
    async labelValues(label, match) {
      const query = `match[]=${encodeURIComponent(match)}`;
      return asArray(await api(`${url}/api/v1/label/${label}/values?${query}`), 'values').map(String);
    },
    async alerts() {
      return asArray(asRecord(await api(`${url}/api/v1/alerts`), 'alerts').alerts, 'alerts') as Alert[];
    },
    async ruleGroups() {
      return asArray(asRecord(await api(`${url}/api/v1/rules`), 'rules').groups, 'groups') as RuleGroup[];
    },
    stop,
  };
}

/** A panel target of the dashboard. */
interface PanelTarget {
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
}

async function loadDashboard(): Promise<Record<string, unknown>> {
  return asRecord(JSON.parse(await readFile(DASHBOARD, 'utf8')), 'dashboard');
}

/** Every target of every panel (rows' nested panels included). */
function panelTargets(dashboard: Record<string, unknown>): PanelTarget[] {
  const panels = asArray(dashboard.panels, 'panels').flatMap((value) => {
    const panel = asRecord(value, 'panel');
    return [panel, ...(Array.isArray(panel.panels) ? panel.panels.map((p) => asRecord(p, 'row panel')) : [])];
  });
  return panels.flatMap((panel) =>
    asArray(panel.targets ?? [], 'targets').map((value) => {
      const target = asRecord(value, 'target');
      return { panel: String(panel.title), refId: String(target.refId), expr: String(target.expr) };
    }),
  );
}

/** The dashboard's query variables in order, each `label_values(<selector>, <label>)`. */
function queryVariables(dashboard: Record<string, unknown>): { name: string; query: string }[] {
  return asArray(asRecord(dashboard.templating, 'templating').list, 'list')
    .map((value) => asRecord(value, 'variable'))
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const query = variable.query;
      const text = typeof query === 'object' && query !== null ? asRecord(query, 'query').query : query;
      return { name: String(variable.name), query: String(text) };
    });
}

/** A value as a regex inside a PromQL string literal (its backslashes doubled), as Grafana writes it. */
const escapeRegex = (value: string): string => value.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');

/** `expr` with Grafana's interval variables and the dashboard's variables (regexes) filled in. */
function substitute(expr: string, variables: ReadonlyMap<string, string>): string {
  return expr.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      const value = GRAFANA_INTERVALS[name] ?? variables.get(name);
      if (value === undefined) throw new Error(`${expr}: no value for ${whole}`);
      return value;
    },
  );
}

/** Values of every query variable (as Grafana would list them), resolved in order. */
async function resolveVariables(
  prometheus: Prometheus,
  dashboard: Record<string, unknown>,
): Promise<{ values: Map<string, string[]>; regexes: Map<string, string> }> {
  const values = new Map<string, string[]>();
  const regexes = new Map<string, string>();
  for (const variable of queryVariables(dashboard)) {
    const call = /^label_values\((.+),\s*(\w+)\)$/.exec(substitute(variable.query, regexes));
    if (call?.[1] === undefined || call[2] === undefined)
      throw new Error(`${variable.name}: ${variable.query}`);
    const list = await prometheus.labelValues(call[2], call[1]);
    values.set(variable.name, list);
    regexes.set(variable.name, `(${list.map(escapeRegex).join('|')})`);
  }
  return { values, regexes };
}

/** Panel targets that return no series, or only NaN, at this instant (empty: every panel has data). */
async function panelsWithoutData(
  prometheus: Prometheus,
  targets: readonly PanelTarget[],
  regexes: ReadonlyMap<string, string>,
): Promise<string[]> {
  const missing: string[] = [];
  for (const target of targets) {
    const expr = substitute(target.expr, regexes);
    const samples = await prometheus.query(expr);
    if (samples.length === 0) missing.push(`${target.panel} [${target.refId}] no series: ${target.expr}`);
    else if (samples.every((sample) => Number.isNaN(sample.value)))
      missing.push(`${target.panel} [${target.refId}] only NaN: ${target.expr}`);
  }
  return missing;
}

/** Names of the alerts of deploy/prometheus/alerts.yml. */
async function deployAlertNames(): Promise<string[]> {
  const rules = asRecord(parse(await readFile(ALERT_RULES, 'utf8')), 'alerts.yml');
  return asArray(rules.groups, 'groups').flatMap((group) =>
    asArray(asRecord(group, 'group').rules, 'rules').map((rule) => String(asRecord(rule, 'rule').alert)),
  );
}

/**
 * Waits until the service has been scraped a few times and its frames show in rates, then
 * until the rules have been evaluated a few times on that data.
 */
async function waitForScrapedData(prometheus: Prometheus, camera: string): Promise<void> {
  await waitUntil(
    async () =>
      (await prometheus.query('count_over_time(up{job="cubestream"}[1m]) >= 5 and up{job="cubestream"} == 1'))
        .length === 1,
    'five successful scrapes',
  );
  await waitUntil(
    async () =>
      (
        await prometheus.query(
          `rate(cubestream_frames_received_total{camera="${camera}"}[10s]) > 0 and rate(cubestream_frame_latency_seconds_count{camera="${camera}"}[10s]) > 0`,
        )
      ).length === 1,
    `frames and decisions of ${camera} in Prometheus`,
  );
  const since = Date.now();
  await waitUntil(async () => {
    const groups = await prometheus.ruleGroups();
    return groups.length === 2 && groups.every((group) => Date.parse(group.lastEvaluation) > since + 3_000);
  }, 'three rule evaluations on the data');
}

/** Asserts that the rules evaluate without error and that only the canaries are pending or firing. */
async function expectNoAlerts(prometheus: Prometheus): Promise<void> {
  const groups = await prometheus.ruleGroups();
  const deployGroup = groups.find((group) => group.name === 'cubestream');
  expect(deployGroup?.rules.map((rule) => rule.name)).toEqual(await deployAlertNames());
  const broken = (deployGroup?.rules ?? [])
    .filter((rule) => rule.health !== 'ok')
    .map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`);
  expect(broken).toEqual([]);

  const alerts = await prometheus.alerts();
  // The check sees both states (it can fail): the canaries are there, one firing, one pending.
  const canary = (name: string) => alerts.find((alert) => alert.labels.alertname === name)?.state;
  expect(canary('TestCanaryFiring')).toBe('firing');
  expect(canary('TestCanaryPending')).toBe('pending');
  const raised = alerts
    .filter((alert) => !alert.labels.alertname?.startsWith('TestCanary'))
    .map((alert) => `${alert.labels.alertname} ${alert.state} ${JSON.stringify(alert.labels)}`);
  expect(raised).toEqual([]);
}

/** The run config of a test: the shipped demo model, metrics on a free port of 127.0.0.1, no viewer. */
function serviceConfig(dir: string, input: Partial<RunConfigInput>) {
  return validateConfig(
    RunConfigSchema,
    {
      model: { path: resolveDemoModelDir() },
      sinks: {
        file: { path: path.join(dir, 'decisions.jsonl') },
        deadLetter: { file: path.join(dir, 'dead.jsonl') },
      },
      metrics: { port: 0, host: '127.0.0.1' },
      viewer: { enabled: false },
      // The demo belt's valves: the eject panels have data too.
      ejector: { ...DEMO_EJECTOR },
      ...input,
    },
    'prometheus e2e',
  );
}

/** `host:port` of the service's telemetry server (the scrape target, and its `instance` label). */
function targetOf(service: RunningService): string {
  return new URL(service.telemetryUrl).host;
}

describe.skipIf(!present && !inCi)('the dashboard and the alerts against a real Prometheus', () => {
  let dir = '';
  let service: RunningService | undefined;
  let prometheus: Prometheus | undefined;
  const logger = createLogger({ level: 'silent' });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-prometheus-e2e-'));
  });
  afterEach(async () => {
    await prometheus?.stop();
    prometheus = undefined;
    await service?.stop('test over');
    service = undefined;
  });
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('the demo camera: every variable resolves, every panel has data, no alert is pending or firing', async () => {
    const { cameraId, width, blockRows, linesPerSecond, anomalyRate } = DEMO_CAMERA;
    service = await startService(
      serviceConfig(dir, {
        source: { kind: 'simulated', cameraId, width, blockRows, linesPerSecond, anomalyRate, seed: 11 },
      }),
      { logger },
    );
    prometheus = await startPrometheus(targetOf(service));
    await waitForScrapedData(prometheus, cameraId);

    const dashboard = await loadDashboard();
    const { values, regexes } = await resolveVariables(prometheus, dashboard);
    expect(values.get('job')).toEqual(['cubestream']);
    expect(values.get('instance')).toEqual([targetOf(service)]);
    expect(values.get('camera')).toEqual([cameraId]);
    expect(values.get('stage')).toEqual(expect.arrayContaining(['score', 'decide']));

    const targets = panelTargets(dashboard);
    expect(targets.length).toBeGreaterThan(30);
    expect(await panelsWithoutData(prometheus, targets, regexes)).toEqual([]);
    // The check can fail: a name the service does not export has no data.
    expect(
      await panelsWithoutData(
        prometheus,
        [
          {
            panel: 'made up',
            refId: 'A',
            expr: 'rate(cubestream_frames_seen_total{job=~"$job"}[$__rate_interval])',
          },
        ],
        regexes,
      ),
    ).toHaveLength(1);

    await expectNoAlerts(prometheus);
  });

  it.skipIf(!mosquittoPresent && !inCi)(
    'frames over MQTT: every panel has data and no alert is raised; with the broker gone, the source and sink alerts go pending',
    async () => {
      let broker: TestBroker | undefined;
      let publisher: mqtt.MqttClient | undefined;
      let publishing = true;
      let pump: Promise<void> | undefined;
      try {
        broker = await startMosquitto();
        const cameraId = 'cam0';
        service = await startService(
          serviceConfig(dir, {
            source: { kind: 'mqtt', url: broker.url, topic: 'pd/+/frames', cameraIds: [cameraId] },
            sinks: {
              mqtt: { url: broker.url, topicPrefix: 'pd', reconnect: { initialMs: 100, maxMs: 400 } },
              deadLetter: { targets: ['mqtt'] },
            },
          }),
          { logger },
        );
        // A camera gateway: 64-pixel blocks of 16 lines, 10 blocks/s, stamped at capture.
        const sim = createLineScanSimulator({
          width: 64,
          blockRows: 16,
          seed: 4,
          // Foreign bodies often enough that every 64-px block stream has ejects within a rate window.
          anomalyRate: 0.05,
        });
        const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
        publisher = client;
        pump = (async () => {
          while (publishing) {
            const frame = sim.nextFrame();
            if (frame === undefined) break;
            await client.publishAsync(`pd/${cameraId}/frames`, Buffer.from(encodeFrameMessage(frame)), {
              qos: 1,
            });
            await sleep(100);
          }
        })();

        prometheus = await startPrometheus(targetOf(service));
        await waitForScrapedData(prometheus, cameraId);

        const dashboard = await loadDashboard();
        const { values, regexes } = await resolveVariables(prometheus, dashboard);
        expect(values.get('camera')).toEqual(expect.arrayContaining([cameraId]));
        expect(await panelsWithoutData(prometheus, panelTargets(dashboard), regexes)).toEqual([]);
        await expectNoAlerts(prometheus);

        // The broker goes away: Prometheus sees the source and the sink disconnected, and both
        // alerts go pending (they fire after their `for`).
        publishing = false;
        await pump;
        await publisher.endAsync(true);
        publisher = undefined;
        await broker.stop('SIGKILL');
        const live = prometheus;
        await waitUntil(async () => {
          const pending = (await live.alerts()).filter((alert) => alert.state === 'pending');
          return (
            pending.some(
              (alert) =>
                alert.labels.alertname === 'CubestreamSourceDisconnected' && alert.labels.camera === cameraId,
            ) &&
            pending.some(
              (alert) =>
                alert.labels.alertname === 'CubestreamBrokerDisconnected' && alert.labels.sink === 'mqtt',
            )
          );
        }, 'CubestreamSourceDisconnected and CubestreamBrokerDisconnected pending');
        // Back before the service stops, so that it flushes to a broker.
        await broker.start();
        await waitUntil(
          async () =>
            (await live.query(`cubestream_source_connected{camera="${cameraId}"} == 1`)).length === 1,
          'the source reconnected',
        );
      } finally {
        publishing = false;
        await pump?.catch(() => undefined);
        await publisher?.endAsync(true);
        await prometheus?.stop();
        prometheus = undefined;
        await service?.stop('test over');
        service = undefined;
        await broker?.dispose();
      }
    },
  );
});
