/**
 * Soak: the whole service (`startService`, in this process) at full rate for `--minutes`, with
 * its memory sampled every few seconds, the event loop's delay monitored, and the outside world
 * attached: decisions published to a real MQTT broker (the embedded aedes broker on a free port,
 * or `--mqtt URL`), the live viewer on with `--viewer-clients` SSE readers, /metrics scraped
 * every `--scrape-seconds`. The clients run in a child process (`bench/soak-clients.ts`) so that
 * the memory and the event-loop delay measured here are the service's.
 *
 *   npm run soak -- --minutes 10
 *   npm run soak -- --minutes 0.5 --unpaced
 *   node --expose-gc --import tsx bench/soak.ts --minutes 10   # a full GC before each sample
 *
 * A progress line every 30 s on stderr; stdout's last line is one JSON object (see
 * bench/README.md, "Soak"). Exit code: the service's outcome code (0: everything decided was
 * published), 2 for bad arguments.
 */
import { fork } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import {
  type IntervalHistogram,
  monitorEventLoopDelay,
  PerformanceObserver,
  constants as perf,
} from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { resolveSimOptions } from '../connectors/sources/simulator/options.js';
import { DEMO_CAMERA, resolveDemoModelDir } from '../src/app/service/demo-settings.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../src/app/service/embedded-broker.js';
import { type RunConfigInput, RunConfigSchema } from '../src/app/service/run-config.js';
import { type RunningService, type ServiceOutcome, startService } from '../src/app/service/service.js';
import { validateConfig } from '../src/core/validate.js';
import { createLogger } from '../src/telemetry/logger.js';
import { benchArgs } from './cli-args.js';
import type { ChildMessage, ClientsCounts, ClientsPlan, ParentMessage } from './soak-clients.js';
import {
  leastSquares,
  type MemoryField,
  type MemorySample,
  memorySlope,
  round,
  WARMUP_RULE,
  warmupSeconds,
} from './soak-stats.js';

const USAGE = `npm run soak -- [--minutes 10] [--lines-per-second 640 | --unpaced] [--mqtt URL]
  [--no-viewer] [--viewer-clients 2] [--scrape-seconds 5] [--sample-seconds 2] [--seed 1]
  [--workers N] [--log-level warn] [--samples-out FILE]
  (--minutes may be fractional: 0.5 for a quick check; --unpaced: blocks as fast as the scorer
   takes them; --workers: scoring worker threads, default the service's;
   --samples-out: every memory sample and post-major-GC heap as JSON)`;

const { fail, positive } = benchArgs('soak', USAGE);

function nonNegativeInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} = ${JSON.stringify(value)} must be a whole number >= 0`);
  return n;
}

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'lines-per-second': { type: 'string' },
    unpaced: { type: 'boolean', default: false },
    mqtt: { type: 'string' },
    viewer: { type: 'boolean', default: true },
    'no-viewer': { type: 'boolean', default: false },
    'viewer-clients': { type: 'string' },
    'scrape-seconds': { type: 'string' },
    'sample-seconds': { type: 'string' },
    seed: { type: 'string' },
    workers: { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
    'samples-out': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (values.unpaced && values['lines-per-second'] !== undefined)
  fail('--unpaced and --lines-per-second exclude each other');
const minutes = positive('minutes', values.minutes, 10);
const runSeconds = minutes * 60;
const linesPerSecond = values.unpaced
  ? undefined
  : positive('lines-per-second', values['lines-per-second'], DEMO_CAMERA.linesPerSecond);
const viewerOn = values.viewer && !values['no-viewer'];
const viewerClients = viewerOn ? nonNegativeInt('viewer-clients', values['viewer-clients'], 2) : 0;
const scrapeSeconds = positive('scrape-seconds', values['scrape-seconds'], 5);
const sampleSeconds = positive('sample-seconds', values['sample-seconds'], 2);
const seed = nonNegativeInt('seed', values.seed, 1);
const workers = values.workers === undefined ? undefined : nonNegativeInt('workers', values.workers, 0);
const PROGRESS_SECONDS = 30;
const MB = 1024 * 1024;
const LOOPBACK = '127.0.0.1';
const gc = (globalThis as { gc?: () => void }).gc;

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const mb = (bytes: number): number => bytes / MB;
const clock = (seconds: number): string =>
  `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
const loads = (): number[] => loadavg().map((l) => Math.round(l * 100) / 100);

// The service's logs (warnings and errors by default) go to stderr, counted.
let logLines = 0;
const logger = createLogger({
  level: values['log-level'],
  name: 'cubestream-soak',
  destination: {
    write(line: string) {
      logLines += 1;
      process.stderr.write(line);
    },
  },
});

const loadStart = loads();
const rssBeforeService = process.memoryUsage().rss;

let broker: EmbeddedBroker | undefined;
let mqttUrl = values.mqtt;
let mqttNote = `the broker at ${values.mqtt}`;
if (mqttUrl === undefined) {
  broker = await startEmbeddedBroker({ host: LOOPBACK, port: 0 });
  mqttUrl = broker.url;
  mqttNote = `embedded aedes broker (MQTT 3.1.1) on ${broker.url}`;
}

const source = {
  kind: 'simulated' as const,
  cameraId: DEMO_CAMERA.cameraId,
  width: DEMO_CAMERA.width,
  blockRows: DEMO_CAMERA.blockRows,
  anomalyRate: DEMO_CAMERA.anomalyRate,
  seed,
  ...(linesPerSecond === undefined ? {} : { linesPerSecond }),
};
const input: RunConfigInput = {
  source,
  model: { path: resolveDemoModelDir() },
  pipeline: workers === undefined ? {} : { scorerWorkers: workers },
  sinks: { mqtt: { url: mqttUrl, protocol: 'auto', connectTimeoutMs: 5_000 } },
  metrics: { port: 0, host: LOOPBACK },
  viewer: { enabled: viewerOn, port: 0, host: LOOPBACK },
  shutdown: { deadlineMs: 10_000 },
};
const config = validateConfig(RunConfigSchema, input, 'soak');
const bands = resolveSimOptions({ width: source.width, blockRows: source.blockRows }).wavelengths.length;

say(
  `soak: ${minutes} min, simulated ${source.width} px x ${bands} bands, blocks of ${source.blockRows}, ` +
    `${linesPerSecond === undefined ? 'unpaced' : `${linesPerSecond} lines/s`}; decisions to ${mqttNote}; ` +
    `viewer ${viewerOn ? `on, ${viewerClients} SSE clients` : 'off'}; /metrics every ${scrapeSeconds} s; ` +
    `memory every ${sampleSeconds} s${gc === undefined ? '' : ' after a full GC'}; load ${loadStart.join(' ')}`,
);

// The clients' process, started first so that its start-up (tsx) is over before the service's,
// and its MQTT subscriber counts every decision.
const clients = fork(fileURLToPath(new URL('./soak-clients.ts', import.meta.url)), [], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const waiting = new Map<ChildMessage['type'], (message: ChildMessage) => void>();
clients.on('message', (message: ChildMessage) => {
  const resolve = waiting.get(message.type);
  waiting.delete(message.type);
  resolve?.(message);
});
/** Sends `message` and waits for the child's `answer` or its `failed`; undefined after `timeoutMs`. */
function ask<T extends ChildMessage['type']>(
  message: ParentMessage,
  answer: T,
  timeoutMs: number,
): Promise<Extract<ChildMessage, { type: T | 'failed' }> | undefined> {
  return new Promise((resolve) => {
    const done = (m: ChildMessage | undefined): void => {
      clearTimeout(timer);
      waiting.delete(answer);
      waiting.delete('failed');
      resolve(m as Extract<ChildMessage, { type: T | 'failed' }> | undefined);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    timer.unref();
    waiting.set(answer, done);
    waiting.set('failed', done);
    if (clients.connected) clients.send(message);
  });
}
function countsOf(answer: ChildMessage | undefined): ClientsCounts | undefined {
  return answer !== undefined && 'counts' in answer ? answer.counts : undefined;
}
async function giveUp(
  what: string,
  answer: ChildMessage | undefined,
  service?: RunningService,
): Promise<never> {
  say(`soak: ${what}: ${answer?.type === 'failed' ? answer.error : 'no answer in 60 s'}`);
  await service?.stop('soak clients failed');
  await broker?.close();
  clients.kill();
  process.exit(1);
}
const decisionsTopic = `${config.sinks.mqtt?.topicPrefix ?? 'cubestream'}/+/decisions`;
const subscribed = await ask({ type: 'subscribe', plan: { mqttUrl, decisionsTopic } }, 'subscribed', 60_000);
if (subscribed?.type !== 'subscribed') await giveUp('the MQTT subscriber did not start', subscribed);

let service: RunningService;
try {
  service = await startService(config, { logger });
} catch (error) {
  await broker?.close();
  clients.kill();
  throw error;
}
const t0 = performance.now();
const elapsed = (): number => (performance.now() - t0) / 1000;
const warmup = warmupSeconds(runSeconds);
say(
  `soak: service up (scorer ${service.scorer}, ${service.scorerWorkers} workers${service.earlyRows ? ', early rows' : ''}), ` +
    `metrics ${service.telemetryUrl}${service.viewerUrl === undefined ? '' : `, viewer ${service.viewerUrl}`}`,
);

// Event-loop delay: the whole run after warm-up, and each progress interval.
const lagAfterWarmup = monitorEventLoopDelay({ resolution: 10 });
const lagInterval = monitorEventLoopDelay({ resolution: 10 });
lagAfterWarmup.enable();
lagInterval.enable();
const lagMs = (h: IntervalHistogram, p: number): number => (h.count === 0 ? 0 : h.percentile(p) / 1e6);

const samples: MemorySample[] = [];
let forcedGcMs = 0;
let forcedGcMaxMs = 0;
const sample = (): MemorySample => {
  if (gc !== undefined) {
    // Blocks the loop: counted apart, and it shows in the event-loop delay.
    const t = performance.now();
    gc();
    const ms = performance.now() - t;
    forcedGcMs += ms;
    forcedGcMaxMs = Math.max(forcedGcMaxMs, ms);
  }
  const m = process.memoryUsage();
  const s: MemorySample = {
    t: elapsed(),
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
  samples.push(s);
  return s;
};
const first = sample();

// The heap right after each major GC (mark-compact, V8's own or a forced one): its floor, which a
// leak raises, without the sawtooth of the young objects promoted between two major GCs.
// GC pauses after warm-up (forced ones included), to tell them from other stalls of the loop.
const afterMajorGc: { t: number; heapUsed: number }[] = [];
const GC_KINDS = new Map<number, string>([
  [perf.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [perf.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [perf.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [perf.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);
const gcPauses = new Map<string, { count: number; ms: number; maxMs: number }>();
const gcObserver = new PerformanceObserver((list) => {
  let major = false;
  const counted = elapsed() >= warmup;
  for (const entry of list.getEntries()) {
    const code = (entry as { detail?: { kind?: number } }).detail?.kind;
    major ||= code === perf.NODE_PERFORMANCE_GC_MAJOR;
    if (!counted) continue;
    const kind = GC_KINDS.get(code ?? -1) ?? 'other';
    const pauses = gcPauses.get(kind) ?? { count: 0, ms: 0, maxMs: 0 };
    pauses.count += 1;
    pauses.ms += entry.duration;
    pauses.maxMs = Math.max(pauses.maxMs, entry.duration);
    gcPauses.set(kind, pauses);
  }
  if (major) afterMajorGc.push({ t: elapsed(), heapUsed: getHeapStatistics().used_heap_size });
});
gcObserver.observe({ entryTypes: ['gc'] });

const plan: ClientsPlan = {
  viewerEventsUrl:
    service.viewerUrl === undefined
      ? undefined
      : new URL(`events?camera=${encodeURIComponent(source.cameraId)}`, service.viewerUrl).href,
  viewerClients,
  metricsUrl: `${service.telemetryUrl}/metrics`,
  scrapeSeconds,
};
const ready = await ask({ type: 'start', plan }, 'ready', 60_000);
if (ready?.type !== 'ready') await giveUp('the viewer clients or the scraper did not start', ready, service);
say(`soak: clients attached at ${elapsed().toFixed(1)} s`);

// Sampling, warm-up boundary, progress lines.
let atWarmup: { t: number; decisions: number } | undefined;
const warmupTimer = setTimeout(
  () => {
    lagAfterWarmup.reset();
    atWarmup = { t: elapsed(), decisions: service.stats.decisions };
  },
  Math.max(0, warmup * 1000 - (performance.now() - t0)),
);
const sampleTimer = setInterval(sample, sampleSeconds * 1000);
let lastProgress = { t: 0, decisions: 0 };
const progress = async (): Promise<void> => {
  const now = elapsed();
  const s = samples[samples.length - 1] ?? first;
  const decisions = service.stats.decisions;
  const rate = (decisions - lastProgress.decisions) / Math.max(1e-9, now - lastProgress.t);
  const p99 = lagMs(lagInterval, 99);
  const max = lagInterval.count === 0 ? 0 : lagInterval.max / 1e6;
  lagInterval.reset();
  lastProgress = { t: now, decisions };
  const snap = countsOf(await ask({ type: 'snapshot' }, 'snapshot', 5_000));
  const strips = snap?.sse.map((c) => c.strips).join('/') ?? '?';
  say(
    `soak ${clock(now)} frames ${service.stats.frames} decisions ${decisions} (${rate.toFixed(1)}/s) ` +
      `dropped ${service.stats.dropped} rejected ${service.stats.rejected} | rss ${mb(s.rss).toFixed(0)} MB ` +
      `heap ${mb(s.heapUsed).toFixed(1)} MB | lag p99 ${p99.toFixed(1)} ms max ${max.toFixed(0)} ms | ` +
      `mqtt ${snap?.mqttDecisions ?? '?'} sse strips ${strips} scrapes ${snap?.scrapes ?? '?'} | load ${loads()[0]}`,
  );
};
const progressTimer = setInterval(() => void progress(), PROGRESS_SECONDS * 1000);

// Run for the duration (or until SIGINT/SIGTERM).
let interrupted: string | undefined;
await new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, Math.max(0, runSeconds * 1000 - (performance.now() - t0)));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = signal;
      clearTimeout(timer);
      resolve();
    });
  }
});
clearInterval(sampleTimer);
gcObserver.disconnect();
clearInterval(progressTimer);
clearTimeout(warmupTimer);
const last = sample();
const ranSeconds = elapsed();
lagAfterWarmup.disable();
lagInterval.disable();
const decisionsAtStop = service.stats.decisions;
const latencyP99 = service.stats.latencyP99();
if (ranSeconds - lastProgress.t > 1) await progress();

// Stop: the clients stay attached through the service's shutdown, then report.
say(`soak: stopping at ${ranSeconds.toFixed(1)} s${interrupted === undefined ? '' : ` (${interrupted})`}`);
if (clients.connected) clients.send({ type: 'stopping' } satisfies ParentMessage);
const stopStarted = performance.now();
const outcome: ServiceOutcome = await service.stop(interrupted ?? 'soak finished');
const stopSeconds = (performance.now() - stopStarted) / 1000;
const counts = countsOf(await ask({ type: 'report', graceMs: 500 }, 'report', 10_000));
if (clients.exitCode === null) clients.kill();
await broker?.close();

const fromSeconds = atWarmup?.t ?? warmup;
const slope = (field: MemoryField): number | undefined =>
  round(memorySlope(samples, field, fromSeconds)?.slope, 3);
const stdErr = (field: MemoryField): number | undefined =>
  round(memorySlope(samples, field, fromSeconds)?.stdErr, 3);
const majorGcPoints = afterMajorGc.filter((p) => p.t >= fromSeconds);
const majorGcFit = leastSquares(
  majorGcPoints.map((p) => p.t / 60),
  majorGcPoints.map((p) => mb(p.heapUsed)),
);
const afterWarmup = samples.filter((s) => s.t >= fromSeconds);
// Resident memory outside the main thread's V8 heap: worker threads (scorers, strip renderer),
// onnxruntime's native memory, buffers, malloc.
const outsideHeapFit = leastSquares(
  afterWarmup.map((s) => s.t / 60),
  afterWarmup.map((s) => mb(s.rss - s.heapTotal)),
);
if (values['samples-out'] !== undefined) {
  await writeFile(
    values['samples-out'],
    `${JSON.stringify({ fromSeconds, samples, afterMajorGc }, (_k, v: unknown) => (typeof v === 'number' ? round(v, 3) : v))}\n`,
  );
}
const peakRss = Math.max(...samples.map((s) => s.rss));
const sse = counts?.sse ?? [];

const result = {
  minutes,
  seconds: round(ranSeconds, 1),
  frames: outcome.frames,
  decisions: outcome.decisions,
  framesDropped: outcome.dropped,
  framesRejected: outcome.rejected,
  rssStartMb: round(mb(first.rss), 1),
  rssEndMb: round(mb(last.rss), 1),
  rssPeakMb: round(mb(peakRss), 1),
  rssBeforeServiceMb: round(mb(rssBeforeService), 1),
  rssSlopeMbPerMin: slope('rss'),
  rssOutsideHeapSlopeMbPerMin: round(outsideHeapFit?.slope, 3),
  heapSlopeMbPerMin: slope('heapUsed'),
  externalSlopeMbPerMin: slope('external'),
  arrayBuffersSlopeMbPerMin: slope('arrayBuffers'),
  slopeStdErrMbPerMin: { rss: stdErr('rss'), heapUsed: stdErr('heapUsed') },
  heapUsedStartMb: round(mb(first.heapUsed), 1),
  heapUsedEndMb: round(mb(last.heapUsed), 1),
  heapUsedPeakMb: round(mb(Math.max(...samples.map((s) => s.heapUsed))), 1),
  heapAfterMajorGcSlopeMbPerMin: round(majorGcFit?.slope, 3),
  majorGcsAfterWarmup: majorGcPoints.length,
  gcPausesAfterWarmup: Object.fromEntries(
    [...gcPauses].map(([kind, p]) => [
      kind,
      { count: p.count, ms: round(p.ms, 0), maxMs: round(p.maxMs, 1) },
    ]),
  ),
  slopeWindow: {
    warmup: WARMUP_RULE,
    fromSeconds: round(fromSeconds, 1),
    toSeconds: round(last.t, 1),
    samples: afterWarmup.length,
    sampleSeconds,
    gcBeforeSample: gc !== undefined,
    ...(gc === undefined
      ? {}
      : { forcedGcMeanMs: round(forcedGcMs / samples.length, 1), forcedGcMaxMs: round(forcedGcMaxMs, 1) }),
  },
  eventLoopLagP99Ms: round(lagMs(lagAfterWarmup, 99), 1),
  eventLoopLagP50Ms: round(lagMs(lagAfterWarmup, 50), 1),
  eventLoopLagMaxMs: round(lagAfterWarmup.count === 0 ? 0 : lagAfterWarmup.max / 1e6, 1),
  eventLoopLagWindow: `after warm-up (from ${round(fromSeconds, 1)} s); monitorEventLoopDelay, resolution 10 ms, which its figures include: an idle loop reads ~10 ms`,
  decisionsPerSecond: round(decisionsAtStop / ranSeconds, 2),
  decisionsPerSecondAfterWarmup:
    atWarmup === undefined
      ? undefined
      : round((decisionsAtStop - atWarmup.decisions) / Math.max(1e-9, ranSeconds - atWarmup.t), 2),
  expectedDecisionsPerSecond: linesPerSecond === undefined ? undefined : linesPerSecond / source.blockRows,
  latencyP99Ms: latencyP99 === undefined ? undefined : round(latencyP99 * 1000, 1),
  outcome: {
    code: outcome.code,
    reason: outcome.reason,
    ...(outcome.error === undefined ? {} : { error: outcome.error.message }),
    stopSeconds: round(stopSeconds, 2),
  },
  mqttReceived: counts?.mqttDecisions,
  viewer: viewerOn
    ? {
        clients: viewerClients,
        stripsReceived: sse.map((c) => c.strips),
        statusEvents: sse.map((c) => c.statuses),
        mbReceived: sse.map((c) => round(mb(c.bytes), 1)),
        connects: sse.map((c) => c.connects),
        unexpectedEnds: sse.reduce((n, c) => n + c.unexpectedEnds, 0),
      }
    : undefined,
  metricsScrapes:
    counts === undefined
      ? undefined
      : {
          count: counts.scrapes,
          errors: counts.scrapeErrors,
          meanMs: round(counts.scrapeMeanMs, 1),
          maxMs: round(counts.scrapeMaxMs, 1),
          bytes: counts.metricsBytes,
        },
  logLines,
  config: {
    source: 'simulated',
    cameraId: source.cameraId,
    width: source.width,
    bands,
    blockRows: source.blockRows,
    linesPerSecond: linesPerSecond ?? 'unpaced',
    seed,
    scorer: service.scorer,
    scorerWorkers: service.scorerWorkers,
    earlyRows: service.earlyRows,
    backend: service.engine.backend,
    sinks: ['mqtt'],
    mqtt: mqttNote,
    viewer: viewerOn,
    viewerClients,
    scrapeSeconds,
    node: process.version,
    cores: availableParallelism(),
    loadAverageStart: loadStart,
    loadAverageEnd: loads(),
  },
};
console.log(JSON.stringify(result));
process.exitCode = outcome.code;
