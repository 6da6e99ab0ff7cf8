import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetryServer, type TelemetryServer } from '../../src/app/http/http-server.js';
import { createMetrics, METRIC_NAMES, METRIC_PREFIX } from '../../src/telemetry/metrics.js';
import {
  asArray,
  asRecord,
  deployPath,
  type Exposition,
  familyOf,
  metricNamesIn,
  parseExposition,
  touchEveryMetric,
} from './deploy-files.js';

const DASHBOARD = deployPath('grafana', 'dashboards', 'cubestream.json');
const PROMETHEUS_FILES = [
  deployPath('prometheus', 'prometheus.yml'),
  deployPath('prometheus', 'alerts.yml'),
  deployPath('prometheus', 'alerts.test.yml'),
];

/** Every panel of a dashboard, rows' nested panels included. */
function panelsOf(dashboard: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const value of asArray(dashboard.panels, 'panels')) {
    const panel = asRecord(value, 'panel');
    out.push(panel);
    if (Array.isArray(panel.panels)) out.push(...panel.panels.map((p) => asRecord(p, 'row panel')));
  }
  return out;
}

/** The PromQL expressions of every panel target. */
function expressionsOf(dashboard: Record<string, unknown>): string[] {
  return panelsOf(dashboard).flatMap((panel) =>
    Array.isArray(panel.targets)
      ? panel.targets.map((target) => String(asRecord(target, 'target').expr ?? ''))
      : [],
  );
}

/** Each metric name of a PromQL expression with the `{...}` selector that follows it ('' when none). */
function selectorsOf(expr: string): { name: string; selector: string }[] {
  return [...expr.matchAll(/\b(?:cubestream|nodejs|process)_[A-Za-z0-9_]*[A-Za-z0-9]\b(\{[^}]*\})?/g)].map(
    (m) => ({
      name: m[0].replace(/\{.*$/s, ''),
      selector: m[1] ?? '',
    }),
  );
}

/** Every PromQL string of a dashboard: panel targets and the template variables' queries. */
function promqlOfDashboard(dashboard: Record<string, unknown>): string[] {
  const variables = asArray(asRecord(dashboard.templating, 'templating').list, 'templating.list').map(
    (variable) => asRecord(variable, 'variable'),
  );
  const variableQueries = variables.flatMap((variable) => {
    const query = variable.query;
    const text =
      typeof query === 'object' && query !== null ? asRecord(query, 'variable query').query : query;
    return variable.type === 'query' ? [String(variable.definition ?? ''), String(text ?? '')] : [];
  });
  return [...expressionsOf(dashboard), ...variableQueries];
}

describe('metric names of the dashboard and the Prometheus files exist in a running /metrics', () => {
  let server: TelemetryServer | undefined;
  let exposition: Exposition;

  beforeAll(async () => {
    const metrics = createMetrics();
    touchEveryMetric(metrics);
    server = await startTelemetryServer({
      port: 0,
      host: '127.0.0.1',
      metrics,
      health: () => ({ checks: [] }),
    });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    exposition = parseExposition(await res.text());
  });

  afterAll(async () => {
    await server?.close();
  });

  it('exposes every docs/metrics.md family with samples once touched', () => {
    for (const name of METRIC_NAMES) {
      expect(exposition.types.has(`${METRIC_PREFIX}${name}`), name).toBe(true);
    }
    expect(exposition.samples.has('cubestream_frame_latency_seconds_bucket')).toBe(true);
    expect(exposition.samples.has('cubestream_stage_duration_seconds_bucket')).toBe(true);
  });

  it('finds the names the dashboard is built on (the extraction itself works)', async () => {
    const names = metricNamesIn(await readFile(DASHBOARD, 'utf8'));
    for (const expected of [
      'cubestream_frames_received_total',
      'cubestream_pixels_scored_total',
      'cubestream_frames_dropped_total',
      'cubestream_frames_rejected_total',
      'cubestream_frame_latency_seconds_bucket',
      'cubestream_stage_duration_seconds_bucket',
      'cubestream_decisions_total',
      'cubestream_anomalous_pixels_ratio',
      'cubestream_threshold',
      'cubestream_center_drift',
      'cubestream_queue_depth',
      'cubestream_publish_errors_total',
      'cubestream_broker_connected',
      'cubestream_model_info',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(names, expected).toContain(expected);
    }
  });

  it('queries only sample names that appear in the exposition (dashboard, prometheus.yml, rules)', async () => {
    const dashboard = asRecord(JSON.parse(await readFile(DASHBOARD, 'utf8')), 'dashboard');
    const sources = [
      { file: DASHBOARD, text: promqlOfDashboard(dashboard).join('\n') },
      ...(await Promise.all(
        PROMETHEUS_FILES.map(async (file) => ({ file, text: await readFile(file, 'utf8') })),
      )),
    ];
    const unknown: string[] = [];
    let checked = 0;
    for (const { file, text } of sources) {
      for (const name of metricNamesIn(text)) {
        checked += 1;
        if (!exposition.samples.has(name)) unknown.push(`${file}: ${name}`);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(unknown).toEqual([]);
  });

  it('names only exposed families or samples in the dashboard text (descriptions included)', async () => {
    const unknown = [...metricNamesIn(await readFile(DASHBOARD, 'utf8'))].filter(
      (name) => familyOf(name, exposition.types) === undefined,
    );
    expect(unknown).toEqual([]);
  });

  it('uses only docs/metrics.md families under the cubestream_ prefix', async () => {
    const allowed = new Set<string>(METRIC_NAMES.map((name) => `${METRIC_PREFIX}${name}`));
    for (const file of [DASHBOARD, ...PROMETHEUS_FILES]) {
      for (const name of metricNamesIn(await readFile(file, 'utf8'))) {
        if (!name.startsWith(METRIC_PREFIX)) continue;
        expect(allowed, `${file}: ${name}`).toContain(familyOf(name, exposition.types));
      }
    }
  });

  it('rejects a made-up name (the check can fail)', () => {
    const names = metricNamesIn('rate(cubestream_frames_seen_total[1m]) + cubestream_latency_bucket');
    expect([...names].filter((name) => familyOf(name, exposition.types) === undefined)).toEqual([
      'cubestream_frames_seen_total',
      'cubestream_latency_bucket',
    ]);
  });
});

describe('deploy/grafana/dashboards/cubestream.json', () => {
  it('is a Grafana 10+ dashboard with unique panel ids, a grid inside 24 columns and a camera variable', async () => {
    const dashboard = asRecord(JSON.parse(await readFile(DASHBOARD, 'utf8')), 'dashboard');
    expect(dashboard.uid).toBe('cubestream');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
    const panels = panelsOf(dashboard);
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      const grid = asRecord(panel.gridPos, `panel ${String(panel.id)} gridPos`);
      expect(Number(grid.x) + Number(grid.w), `panel ${String(panel.title)}`).toBeLessThanOrEqual(24);
      expect(Number(grid.h)).toBeGreaterThan(0);
      if (panel.type === 'row') continue;
      expect(asRecord(panel.datasource, 'datasource').uid).toMatch(/^\$\{datasource\}$/);
      const targets = asArray(panel.targets, `panel ${String(panel.title)} targets`);
      expect(targets.length, String(panel.title)).toBeGreaterThan(0);
      for (const target of targets) expect(String(asRecord(target, 'target').expr)).not.toBe('');
    }
    const types = new Set(panels.map((panel) => panel.type));
    for (const type of ['timeseries', 'stat', 'heatmap', 'state-timeline', 'row']) {
      expect(types, type).toContain(type);
    }
    const heatmap = panels.find((panel) => panel.type === 'heatmap');
    expect(JSON.stringify(heatmap?.targets)).toContain('cubestream_stage_duration_seconds_bucket');
    expect(JSON.stringify(heatmap?.targets)).toContain('"format":"heatmap"');

    const variables = asArray(asRecord(dashboard.templating, 'templating').list, 'templating.list').map(
      (variable) => asRecord(variable, 'variable'),
    );
    const definition = (name: string): unknown =>
      variables.find((variable) => variable.name === name)?.definition;
    expect(variables.map((variable) => variable.name)).toEqual([
      'datasource',
      'job',
      'instance',
      'camera',
      'stage',
    ]);
    expect(definition('job')).toBe('label_values(cubestream_model_info, job)');
    expect(definition('instance')).toBe('label_values(cubestream_model_info{job=~"$job"}, instance)');
    // A metric every configured camera has from the start, before its first frame.
    expect(definition('camera')).toBe(
      'label_values(cubestream_source_connected{job=~"$job",instance=~"$instance"}, camera)',
    );
    expect(definition('stage')).toBe(
      'label_values(cubestream_stage_duration_seconds_count{job=~"$job",instance=~"$instance"}, stage)',
    );
    expect(variables.find((variable) => variable.name === 'datasource')?.query).toBe('prometheus');
    const usesCamera = expressionsOf(dashboard).filter((expr) => expr.includes('camera=~"$camera"'));
    expect(usesCamera.length).toBeGreaterThan(10);
  });

  it('filters every selector of every panel by $job and $instance (process and Node.js metrics too)', async () => {
    const dashboard = asRecord(JSON.parse(await readFile(DASHBOARD, 'utf8')), 'dashboard');
    const exprs = expressionsOf(dashboard);
    const selectors = exprs.flatMap(selectorsOf);
    expect(selectors.length).toBeGreaterThan(exprs.length);
    const unfiltered = selectors.filter(
      ({ selector }) => !selector.includes('job=~"$job"') || !selector.includes('instance=~"$instance"'),
    );
    expect(unfiltered).toEqual([]);
    for (const name of [
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(selectors.map((s) => s.name)).toContain(name);
    }
    // the check can fail: an unfiltered selector and a bare name are found
    expect(
      selectorsOf('rate(process_cpu_seconds_total[1m]) + nodejs_heap_size_used_bytes{job=~"$job"}'),
    ).toEqual([
      { name: 'process_cpu_seconds_total', selector: '' },
      { name: 'nodejs_heap_size_used_bytes', selector: '{job=~"$job"}' },
    ]);
  });

  it('shows source connection, last frame age and τ against its calibrated value', async () => {
    const dashboard = asRecord(JSON.parse(await readFile(DASHBOARD, 'utf8')), 'dashboard');
    const exprs = expressionsOf(dashboard);
    expect(exprs.some((expr) => expr.includes('cubestream_source_connected{'))).toBe(true);
    expect(exprs.some((expr) => /^time\(\) - .*cubestream_last_frame_timestamp_seconds\{/.test(expr))).toBe(
      true,
    );
    expect(
      exprs.some((expr) =>
        /cubestream_threshold\{.*\/ max by \(camera\) \(cubestream_threshold_calibrated\{/.test(expr),
      ),
    ).toBe(true);
    // queue depth is per camera now, no `camera="all"` anywhere
    expect(JSON.stringify(dashboard)).not.toContain('camera=\\"all\\"');
  });

  it('draws p50 and p99 latency with histogram_quantile over frame_latency_seconds_bucket', async () => {
    const dashboard = asRecord(JSON.parse(await readFile(DASHBOARD, 'utf8')), 'dashboard');
    const exprs = expressionsOf(dashboard);
    for (const q of ['0.5', '0.99']) {
      expect(
        exprs.some((expr) =>
          expr.startsWith(
            `histogram_quantile(${q}, sum by (camera, le) (rate(cubestream_frame_latency_seconds_bucket`,
          ),
        ),
        q,
      ).toBe(true);
    }
  });
});

describe('a running cubestream service exposes every metric the dashboard and Prometheus files use', () => {
  it('serves each family (declared, most with samples) from a real `startService` /metrics', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { validateConfig } = await import('../../src/core/validate.js');
    const { resolveDemoModelDir } = await import('../../src/app/service/demo-settings.js');
    const { RunConfigSchema } = await import('../../src/app/service/run-config.js');
    const { startService } = await import('../../src/app/service/service.js');
    const { createLogger } = await import('../../src/telemetry/logger.js');
    const dir = await mkdtemp(join(tmpdir(), 'cubestream-dashboard-'));
    const config = validateConfig(
      RunConfigSchema,
      {
        source: {
          kind: 'simulated',
          width: 32,
          blockRows: 8,
          seed: 5,
          anomalyRate: 0.2,
          linesPerSecond: 320,
        },
        model: { path: resolveDemoModelDir() },
        sinks: {
          file: { path: join(dir, 'decisions.jsonl') },
          deadLetter: { file: join(dir, 'dead.jsonl') },
        },
        metrics: { port: 0, host: '127.0.0.1' },
        viewer: { enabled: false },
      },
      'dashboard test',
    );
    const service = await startService(config, { logger: createLogger({ level: 'silent' }) });
    try {
      const deadline = Date.now() + 20_000;
      while (service.stats.decisions < 5 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(service.stats.decisions).toBeGreaterThanOrEqual(5);
      const live = parseExposition(await (await fetch(`${service.telemetryUrl}/metrics`)).text());
      const dashboard = asRecord(JSON.parse(await readFile(DASHBOARD, 'utf8')), 'dashboard');
      const texts = [
        promqlOfDashboard(dashboard).join('\n'),
        ...(await Promise.all(PROMETHEUS_FILES.map((file) => readFile(file, 'utf8')))),
      ];
      const missing = [...new Set(texts.flatMap((text) => [...metricNamesIn(text)]))].filter(
        (name) => familyOf(name, live.types) === undefined,
      );
      expect(missing).toEqual([]);
      expect(live.samples.has('cubestream_frames_received_total')).toBe(true);
      expect(live.samples.has('cubestream_frame_latency_seconds_bucket')).toBe(true);
    } finally {
      await service.stop('test over');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
