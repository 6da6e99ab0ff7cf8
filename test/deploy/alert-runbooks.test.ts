/**
 * The alert rules and their runbook (docs/operating.md): every alert carries summary, description
 * and a runbook anchor that exists, and has unit tests that see it fire and not fire. The metric
 * table has one home, docs/metrics.md, checked against the registry by test/docs/metrics-doc.test.ts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { asArray, asRecord, deployPath, repoRoot } from './deploy-files.js';

const RUNBOOK = path.join(repoRoot, 'docs', 'operating.md');

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Anchors of every heading of a Markdown text. */
function anchors(markdown: string): Set<string> {
  return new Set(
    markdown
      .split('\n')
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) => slug(line.replace(/^#+ /, ''))),
  );
}

interface AlertRule {
  readonly alert: string;
  readonly labels: Record<string, unknown>;
  readonly annotations: Record<string, unknown>;
}

async function alertRules(): Promise<AlertRule[]> {
  const doc = asRecord(parse(await readFile(deployPath('prometheus', 'alerts.yml'), 'utf8')), 'alerts.yml');
  return asArray(doc.groups, 'groups').flatMap((group) =>
    asArray(asRecord(group, 'group').rules, 'rules').map((value) => {
      const rule = asRecord(value, 'rule');
      return {
        alert: String(rule.alert),
        labels: asRecord(rule.labels ?? {}, `${String(rule.alert)} labels`),
        annotations: asRecord(rule.annotations ?? {}, `${String(rule.alert)} annotations`),
      };
    }),
  );
}

/** What is wrong with an alert's annotations against the runbook's anchors (empty: nothing). */
function annotationProblems(rule: AlertRule, runbookAnchors: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const key of ['summary', 'description', 'runbook']) {
    const value = rule.annotations[key];
    if (typeof value !== 'string' || value.trim() === '') problems.push(`${rule.alert}: no ${key}`);
  }
  const runbook = String(rule.annotations.runbook ?? '');
  const expected = `docs/operating.md#${rule.alert.toLowerCase()}`;
  if (runbook !== '' && runbook !== expected)
    problems.push(`${rule.alert}: runbook ${runbook}, not ${expected}`);
  const anchor = runbook.split('#')[1] ?? '';
  if (runbook !== '' && !runbookAnchors.has(anchor)) problems.push(`${rule.alert}: no section #${anchor}`);
  if (!['critical', 'warning'].includes(String(rule.labels.severity)))
    problems.push(`${rule.alert}: severity`);
  return problems;
}

describe('alert rules and docs/operating.md', () => {
  it('every alert has a severity, a summary, a description and a runbook section that exists', async () => {
    const rules = await alertRules();
    expect(rules.length).toBeGreaterThanOrEqual(10);
    const runbookAnchors = anchors(await readFile(RUNBOOK, 'utf8'));
    expect(rules.flatMap((rule) => annotationProblems(rule, runbookAnchors))).toEqual([]);
    // the check can fail: a rule without annotations, and one pointing at a missing section
    expect(
      annotationProblems(
        { alert: 'CubestreamMadeUp', labels: { severity: 'warning' }, annotations: {} },
        runbookAnchors,
      ),
    ).toEqual([
      'CubestreamMadeUp: no summary',
      'CubestreamMadeUp: no description',
      'CubestreamMadeUp: no runbook',
    ]);
    expect(
      annotationProblems(
        {
          alert: 'CubestreamMadeUp',
          labels: { severity: 'warning' },
          annotations: { summary: 's', description: 'd', runbook: 'docs/operating.md#cubestreammadeup' },
        },
        runbookAnchors,
      ),
    ).toEqual(['CubestreamMadeUp: no section #cubestreammadeup']);
  });

  it('the runbook has one section per alert and none for an alert that does not exist', async () => {
    const names = (await alertRules()).map((rule) => rule.alert);
    const sections = (await readFile(RUNBOOK, 'utf8'))
      .split('\n')
      .filter((line) => /^### Cubestream\w+$/.test(line))
      .map((line) => line.slice(4));
    expect(sections).toEqual(names);
  });

  it('alerts.test.yml sees every alert fire and not fire', async () => {
    const tests = asRecord(
      parse(await readFile(deployPath('prometheus', 'alerts.test.yml'), 'utf8')),
      'tests',
    );
    const cases = asArray(tests.tests, 'tests').flatMap((group) =>
      asArray(asRecord(group, 'test group').alert_rule_test ?? [], 'alert_rule_test').map((value) => {
        const test = asRecord(value, 'alert_rule_test');
        return {
          alert: String(test.alertname),
          fires: asArray(test.exp_alerts ?? [], 'exp_alerts').length > 0,
        };
      }),
    );
    const uncovered = (await alertRules()).flatMap((rule) => [
      ...(cases.some((c) => c.alert === rule.alert && c.fires) ? [] : [`${rule.alert}: never fires`]),
      ...(cases.some((c) => c.alert === rule.alert && !c.fires) ? [] : [`${rule.alert}: never quiet`]),
    ]);
    expect(uncovered).toEqual([]);
  });

  it('slugs headings as GitHub does', () => {
    expect(slug('CubestreamNoFrames')).toBe('cubestreamnoframes');
    expect(slug('Operating it')).toBe('operating-it');
    expect(slug('τ / calibrated τ')).toBe('τ--calibrated-τ');
  });
});
