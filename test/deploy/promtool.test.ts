import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createMetrics } from '../../src/telemetry/metrics.js';
import {
  asArray,
  asRecord,
  deployPath,
  inCi,
  promtool,
  runPromtool,
  touchEveryMetric,
} from './deploy-files.js';

/**
 * prom-client's default metrics that `promtool check metrics` flags and that we cannot rename:
 * gauges whose names end in `_total`.
 */
const PROM_CLIENT_LINT_EXCEPTIONS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

if (promtool === undefined && !inCi) {
  console.warn(
    'test/deploy/promtool.test.ts skipped: promtool not installed ' +
      '(apt-get install -y --no-install-recommends prometheus); under CI=true this fails instead.',
  );
}

/** Replaces Grafana's template variables so that an expression is plain PromQL. */
function plainPromql(expr: string): string {
  return expr.replace(/\$__\w+/g, '1m').replace(/\$\{?\w+\}?/g, '.*');
}

describe.skipIf(promtool === undefined && !inCi)(
  'promtool checks of deploy/prometheus and the exposition',
  () => {
    let dir = '';
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-promtool-'));
    });
    afterAll(async () => {
      if (dir !== '') await rm(dir, { recursive: true, force: true });
    });

    /**
     * prometheus.yml with its secret and rule files where this machine has them: the scrape token
     * (a compose secret in the stack) as a file in `dir`, the rule files as absolute paths.
     */
    async function localPrometheusConfig(tokenFile: string | undefined): Promise<string> {
      const config = asRecord(
        parse(await readFile(deployPath('prometheus', 'prometheus.yml'), 'utf8')),
        'config',
      );
      config.rule_files = asArray(config.rule_files, 'rule_files').map((f) =>
        deployPath('prometheus', String(f)),
      );
      for (const job of asArray(config.scrape_configs, 'scrape_configs').map((j) => asRecord(j, 'job'))) {
        if (job.authorization === undefined) continue;
        const authorization = asRecord(job.authorization, 'authorization');
        authorization.credentials_file = tokenFile ?? path.join(dir, 'missing-token');
      }
      const file = path.join(dir, 'prometheus.yml');
      await writeFile(file, stringify(config));
      return file;
    }

    it('promtool check config accepts prometheus.yml (and the rule file it names)', async () => {
      const tokenFile = path.join(dir, 'metrics-token');
      await writeFile(tokenFile, 'a'.repeat(64));
      const result = await runPromtool(['check', 'config', await localPrometheusConfig(tokenFile)]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain('1 rule files found');
    });

    it('promtool check config fails when the scrape token file is missing (the check can fail)', async () => {
      const result = await runPromtool(['check', 'config', await localPrometheusConfig(undefined)]);
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('missing-token');
    });

    it('promtool check rules accepts alerts.yml', async () => {
      const result = await runPromtool(['check', 'rules', deployPath('prometheus', 'alerts.yml')]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/SUCCESS: [1-9]\d* rules found/);
    });

    it('promtool test rules: the alerts fire on synthetic series (no frames, broker down, p99 > 100 ms)', async () => {
      const result = await runPromtool(['test', 'rules', deployPath('prometheus', 'alerts.test.yml')]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain('SUCCESS');
    });

    it('promtool test rules fails when an expected alert does not fire (the check can fail)', async () => {
      const source = await readFile(deployPath('prometheus', 'alerts.test.yml'), 'utf8');
      const tests = asRecord(parse(source), 'alerts.test.yml');
      tests.rule_files = [deployPath('prometheus', 'alerts.yml')];
      const first = asRecord(asArray(tests.tests, 'tests')[0], 'tests[0]');
      const ruleTests = asArray(first.alert_rule_test, 'alert_rule_test');
      ruleTests.push({
        eval_time: '1m',
        alertname: 'CubestreamNoFrames',
        exp_alerts: [{ exp_labels: { severity: 'critical', camera: 'cam2' } }],
      });
      const file = path.join(dir, 'broken.test.yml');
      await writeFile(file, stringify(tests));
      const result = await runPromtool(['test', 'rules', file]);
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('CubestreamNoFrames');
    });

    it('every dashboard expression is valid PromQL (parsed by promtool as recording rules)', async () => {
      const dashboard = JSON.parse(
        await readFile(deployPath('grafana', 'dashboards', 'cubestream.json'), 'utf8'),
      ) as unknown;
      const exprs = [...JSON.stringify(dashboard).matchAll(/"expr":"((?:[^"\\]|\\.)*)"/g)].map((match) =>
        plainPromql(JSON.parse(`"${match[1] ?? ''}"`) as string),
      );
      expect(exprs.length).toBeGreaterThan(20);
      const rules = {
        groups: [
          { name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:expr_${i}`, expr })) },
        ],
      };
      const file = path.join(dir, 'dashboard-rules.yml');
      await writeFile(file, stringify(rules));
      const ok = await runPromtool(['check', 'rules', file]);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);

      rules.groups[0]?.rules.push({ record: 'dashboard:broken', expr: 'sum by (camera (rate(x[1m]))' });
      await writeFile(file, stringify(rules));
      const broken = await runPromtool(['check', 'rules', file]);
      expect(broken.code).not.toBe(0);
    });

    it('promtool check metrics passes on the cubestream metrics of a populated registry', async () => {
      const metrics = createMetrics({ defaultMetrics: false });
      touchEveryMetric(metrics);
      const result = await runPromtool(['check', 'metrics'], await metrics.registry.metrics());
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect((result.stdout + result.stderr).trim()).toBe('');
    });

    it('promtool check metrics flags nothing but known prom-client default-metric names', async () => {
      const metrics = createMetrics();
      touchEveryMetric(metrics);
      const result = await runPromtool(['check', 'metrics'], await metrics.registry.metrics());
      const problems = (result.stdout + result.stderr)
        .split('\n')
        .filter((line) => line.trim() !== '')
        .filter((line) => !PROM_CLIENT_LINT_EXCEPTIONS.some((name) => line.startsWith(`${name} `)));
      expect(problems).toEqual([]);
    });

    it('promtool check metrics flags a badly named counter (the lint can fail)', async () => {
      const bad =
        '# HELP cubestream_frames counter without _total\n# TYPE cubestream_frames counter\ncubestream_frames 1\n';
      const result = await runPromtool(['check', 'metrics'], bad);
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('cubestream_frames');
    });
  },
);
