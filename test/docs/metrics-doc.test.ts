import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { viewerTelemetry } from '../../src/app/service/viewer-telemetry.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics, METRIC_PREFIX } from '../../src/telemetry/metrics.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string): string => readFileSync(path.join(REPO_ROOT, file), 'utf8');
const doc = read('docs/metrics.md');

/** A row of the doc's metric table. */
interface DocRow {
  readonly type: string;
  readonly labels: string[];
  readonly alerts: string[];
  readonly panels: string[];
}

function docRows(): Map<string, DocRow> {
  const rows = new Map<string, DocRow>();
  for (const line of doc.split('\n')) {
    if (!line.startsWith(`| \`${METRIC_PREFIX}`)) continue;
    const cells = line.split('|').map((c) => c.trim());
    const [, name, type, labels, , alerts, panels] = cells;
    const list = (cell: string | undefined, separator: string) =>
      (cell ?? '')
        .split(separator)
        .map((s) => s.trim().replace(/`/g, ''))
        .filter((s) => s !== '');
    rows.set((name ?? '').replace(/`/g, ''), {
      type: type ?? '',
      labels: list(labels, ','),
      alerts: list(alerts, ','),
      panels: list(panels, ';'),
    });
  }
  return rows;
}

/** Every cubestream metric the service registers: createMetrics() plus the viewer's. */
async function registered(): Promise<Map<string, { type: string; labels: string[] }>> {
  const metrics = createMetrics({ defaultMetrics: false });
  viewerTelemetry(metrics.registry, () => undefined, createLogger({ level: 'silent' }));
  const out = new Map<string, { type: string; labels: string[] }>();
  for (const { name, type } of await metrics.registry.getMetricsAsJSON()) {
    if (!name.startsWith(METRIC_PREFIX)) continue;
    const metric = metrics.registry.getSingleMetric(name) as unknown as { labelNames?: readonly string[] };
    out.set(name, { type: String(type), labels: [...(metric.labelNames ?? [])] });
  }
  return out;
}

/** Base metric names (histogram series suffixes removed) in a PromQL expression. */
function metricsIn(expr: string): Set<string> {
  return new Set(
    [...expr.matchAll(/cubestream_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
  );
}

/** Metric -> alerts whose rule reads it, from deploy/prometheus/alerts.yml. */
function alertsByMetric(): Map<string, string[]> {
  const rules = parse(read('deploy/prometheus/alerts.yml')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const out = new Map<string, string[]>();
  for (const rule of rules.groups.flatMap((g) => g.rules)) {
    for (const name of metricsIn(rule.expr)) out.set(name, [...(out.get(name) ?? []), rule.alert]);
  }
  return out;
}

interface Panel {
  readonly type?: string;
  readonly title?: string;
  readonly targets?: { expr?: string }[];
  readonly panels?: Panel[];
}

/** Metric -> dashboard panels whose queries read it, from the Grafana dashboard. */
function panelsByMetric(): Map<string, string[]> {
  const dashboard = JSON.parse(read('deploy/grafana/dashboards/cubestream.json')) as { panels: Panel[] };
  const out = new Map<string, string[]>();
  const walk = (panels: readonly Panel[]): void => {
    for (const panel of panels) {
      if (panel.type !== 'row') {
        const expr = (panel.targets ?? []).map((t) => t.expr ?? '').join('\n');
        for (const name of metricsIn(expr)) out.set(name, [...(out.get(name) ?? []), panel.title ?? '']);
      }
      walk(panel.panels ?? []);
    }
  };
  walk(dashboard.panels);
  return out;
}

const sorted = (values: readonly string[]) => [...new Set(values)].sort();

describe('docs/metrics.md', () => {
  it('lists every registered cubestream metric with its type and labels', async () => {
    const rows = docRows();
    const metrics = await registered();
    expect(metrics.size).toBeGreaterThan(20);
    for (const [name, { type, labels }] of metrics) {
      const row = rows.get(name);
      expect(row, `${name} has a row in docs/metrics.md`).toBeDefined();
      expect(row?.type, `type of ${name}`).toBe(type);
      expect(sorted(row?.labels ?? []), `labels of ${name}`).toEqual(sorted(labels));
    }
  });

  it('names no cubestream metric that is not registered', async () => {
    const metrics = await registered();
    const named = [...doc.matchAll(/cubestream_[a-z0-9_]+/g)].map((m) => m[0]);
    expect(named.length).toBeGreaterThan(metrics.size);
    for (const name of named) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      const known = metrics.has(name) || (metrics.get(base)?.type === 'histogram' && base !== name);
      expect(known, `${name} in docs/metrics.md is registered`).toBe(true);
    }
    expect(docRows().size).toBe(metrics.size);
  });

  it('names, for each metric, exactly the alerts and dashboard panels that read it', () => {
    const alerts = alertsByMetric();
    const panels = panelsByMetric();
    for (const [name, row] of docRows()) {
      expect(sorted(row.alerts), `alerts reading ${name}`).toEqual(sorted(alerts.get(name) ?? []));
      expect(sorted(row.panels), `panels reading ${name}`).toEqual(sorted(panels.get(name) ?? []));
    }
    for (const name of [...alerts.keys(), ...panels.keys()]) {
      expect(docRows().has(name), `${name}, read by an alert or panel, is documented`).toBe(true);
    }
  });
});
