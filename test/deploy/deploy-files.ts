/**
 * Shared helpers of the deploy/ checks: paths of the deployment files, metric-name extraction
 * from PromQL text, a populated metrics exposition, and the `promtool` binary.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { CubestreamMetrics } from '../../src/telemetry/metrics.js';

/** Repository root (two levels above this file). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Absolute path of a file under deploy/. */
export function deployPath(...parts: string[]): string {
  return path.join(repoRoot, 'deploy', ...parts);
}

/** True when the tests run in CI, where a missing tool must fail rather than skip. */
export const inCi = process.env.CI === 'true';

/** Prefixes of the metric names the deploy files may use (ours plus prom-client's defaults). */
export const METRIC_NAME_PATTERN = /\b(?:cubestream|nodejs|process)_[A-Za-z0-9_]*[A-Za-z0-9]\b/g;

/** Every metric-like identifier (`cubestream_*`, `nodejs_*`, `process_*`) in a text. */
export function metricNamesIn(text: string): Set<string> {
  return new Set(text.match(METRIC_NAME_PATTERN) ?? []);
}

/** Histogram series suffixes that name a sample of a histogram family. */
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/** The family a sample name belongs to, given the families of an exposition and their types. */
export function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = types.get(base);
    if (type === 'histogram' || type === 'summary') return base;
  }
  return undefined;
}

/** A parsed Prometheus text exposition: family types and every sample name seen. */
export interface Exposition {
  /** `# TYPE` lines: family name -> type. */
  readonly types: Map<string, string>;
  /** Names of the sample lines (`foo_bucket`, `foo_sum`, ...). */
  readonly samples: Set<string>;
}

/** Parses the text exposition format crudely (enough for names and types). */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Set<string>();
  for (const line of text.split('\n')) {
    const typeLine = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (typeLine?.[1] !== undefined && typeLine[2] !== undefined) {
      types.set(typeLine[1], typeLine[2]);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(line)?.[0];
    if (name !== undefined) samples.add(name);
  }
  return { types, samples };
}

/** Gives every labelled metric at least one series, so that every sample name is exposed. */
export function touchEveryMetric(metrics: CubestreamMetrics): void {
  metrics.framesReceived.inc({ camera: 'cam1' });
  metrics.framesDropped.inc({ camera: 'cam1', reason: 'backpressure' });
  metrics.framesRejected.inc({ camera: 'cam1', reason: 'invalid_frame' });
  metrics.stageDuration.observe({ stage: 'project' }, 0.002);
  metrics.frameLatency.observe({ camera: 'cam1' }, 0.03);
  metrics.pixelsScored.inc(80_000);
  metrics.pixelsScoredEarly.inc({ camera: 'cam1' }, 20_000);
  metrics.anomalousPixelsRatio.set({ camera: 'cam1' }, 0.004);
  metrics.decisions.inc({ camera: 'cam1', anomalous: 'false' });
  metrics.threshold.set({ camera: 'cam1' }, 1.25);
  metrics.centerDrift.set({ camera: 'cam1' }, 0.002);
  metrics.queueDepth.set({ camera: 'cam1' }, 1);
  metrics.publishErrors.inc({ sink: 'mqtt' });
  metrics.brokerConnected.set({ sink: 'mqtt' }, 1);
  metrics.setModelInfo('2024-06-01', 'ab12cd34');
  metrics.setEngineInfo({ scoring: 'onnx', training: 'onnx', tfjs: 'wasm' });
  metrics.sourceConnected.set({ camera: 'cam1' }, 1);
  metrics.lastFrameTimestamp.set({ camera: 'cam1' }, 1_700_000_000);
  metrics.thresholdCalibrated.set({ camera: 'cam1' }, 1.2);
  metrics.warmupComplete.set(1);
  metrics.outboxPending.set({ sink: 'mqtt' }, 0);
  metrics.outboxReplayed.inc({ sink: 'mqtt' }, 0);
  metrics.ejects.inc({ camera: 'cam1' });
  metrics.ejectsLate.inc({ camera: 'cam1' }, 0);
  metrics.ejectBudget.observe({ camera: 'cam1' }, 0.12);
  metrics.defectiveElements.set({ camera: 'cam1' }, 0);
}

/** Every YAML document of a file, parsed (errors throw with the file name). */
export async function readYamlDocuments(file: string): Promise<unknown[]> {
  const docs = parseAllDocuments(await readFile(file, 'utf8'), { prettyErrors: true, merge: true });
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((doc) => {
    const error = doc.errors[0];
    if (error !== undefined) throw new Error(`${file}: ${error.message}`);
    return doc.toJS() as unknown;
  });
}

/** Narrows an unknown YAML/JSON value to a plain object (throws naming `what` otherwise). */
export function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${what}: expected a mapping, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Narrows an unknown value to an array (throws naming `what` otherwise). */
export function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}

/** Where Debian's `prometheus` package installs promtool (`apt-get install -y prometheus`). */
const PROMTOOL_CANDIDATES = ['/usr/bin/promtool', '/usr/local/bin/promtool'];

/** The promtool binary, or undefined when it is not installed. */
export const promtool: string | undefined = PROMTOOL_CANDIDATES.find((candidate) => existsSync(candidate));

/** Result of a finished child process. */
export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs promtool with arguments (and optional stdin); throws when promtool is not installed. */
export async function runPromtool(args: readonly string[], stdin?: string): Promise<ToolResult> {
  if (promtool === undefined) {
    throw new Error('promtool not found: apt-get install -y --no-install-recommends prometheus');
  }
  const child = spawn(promtool, args, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.end(stdin ?? '');
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  });
  return { code, stdout, stderr };
}
