/**
 * The outside world of `bench/soak.ts`, in a child process of its own (forked over IPC) so that
 * its memory and event-loop time do not count against the service being soaked: live-viewer
 * clients that read the SSE stream (`/viewer/events?camera=<id>`) as a browser would, a
 * Prometheus-like scraper of `/metrics`, and an MQTT subscriber that counts the decisions
 * reaching the broker.
 *
 * Messages from the parent: `subscribe` (the MQTT subscriber, before the service starts, so
 * that every decision is counted; answered `subscribed`), `start` ({@link ClientsPlan}: viewer
 * clients and scraper once the service listens; answered `ready`), `snapshot` (answered with the
 * counts), `stopping` (stop scraping and reconnecting; streams stay open through the service's
 * shutdown), `report` (waits `graceMs` for decisions still in flight, closes, answers with the
 * counts). Not run by itself.
 */
import mqtt from 'mqtt';

/** Where the decisions are counted. */
export interface SubscribePlan {
  /** Broker to subscribe on. */
  readonly mqttUrl: string;
  /** e.g. `cubestream/+/decisions`. */
  readonly decisionsTopic: string;
}

/** What the parent asks this process to load once the service listens. */
export interface ClientsPlan {
  /** `http://host:port/viewer/events?camera=<id>`, or undefined for no viewer clients. */
  readonly viewerEventsUrl: string | undefined;
  readonly viewerClients: number;
  /** `http://host:port/metrics`. */
  readonly metricsUrl: string;
  readonly scrapeSeconds: number;
}

/** One viewer client's counts. */
export interface SseCounts {
  connects: number;
  /** Streams that ended or failed before `stopping` (the client then reconnects after 1 s). */
  unexpectedEnds: number;
  bytes: number;
  strips: number;
  statuses: number;
  hellos: number;
  cameras: number;
  lastError?: string;
}

/** Counts the parent gets back. */
export interface ClientsCounts {
  readonly sse: SseCounts[];
  readonly scrapes: number;
  readonly scrapeErrors: number;
  readonly scrapeMaxMs: number;
  readonly scrapeMeanMs: number;
  readonly metricsBytes: number;
  readonly mqttConnected: boolean;
  readonly mqttDecisions: number;
  readonly mqttBytes: number;
  readonly rssMb: number;
}

export type ParentMessage =
  | { readonly type: 'subscribe'; readonly plan: SubscribePlan }
  | { readonly type: 'start'; readonly plan: ClientsPlan }
  | { readonly type: 'snapshot' }
  | { readonly type: 'stopping' }
  | { readonly type: 'report'; readonly graceMs: number };

export type ChildMessage =
  | { readonly type: 'subscribed' }
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'snapshot'; readonly counts: ClientsCounts }
  | { readonly type: 'report'; readonly counts: ClientsCounts };

const send = (message: ChildMessage): void => {
  process.send?.(message);
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let stopping = false;
const aborts = new Set<AbortController>();
const sse: SseCounts[] = [];
let scrapes = 0;
let scrapeErrors = 0;
let scrapeMaxMs = 0;
let scrapeTotalMs = 0;
let metricsBytes = 0;
let scrapeTimer: ReturnType<typeof setInterval> | undefined;
let subscriber: mqtt.MqttClient | undefined;
let mqttDecisions = 0;
let mqttBytes = 0;

function counts(): ClientsCounts {
  return {
    sse: sse.map((c) => ({ ...c })),
    scrapes,
    scrapeErrors,
    scrapeMaxMs,
    scrapeMeanMs: scrapes === 0 ? 0 : scrapeTotalMs / scrapes,
    metricsBytes,
    mqttConnected: subscriber?.connected ?? false,
    mqttDecisions,
    mqttBytes,
    rssMb: process.memoryUsage().rss / 2 ** 20,
  };
}

/** Reads one event stream to its end, counting events by their `event:` line. */
async function readStream(url: string, c: SseCounts, connected: () => void): Promise<void> {
  const abort = new AbortController();
  aborts.add(abort);
  try {
    const res = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream' } });
    if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`);
    c.connects += 1;
    connected();
    const decoder = new TextDecoder();
    let rest = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      c.bytes += chunk.byteLength;
      const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('event: ')) continue;
        const event = line.slice(7);
        if (event === 'strip') c.strips += 1;
        else if (event === 'status') c.statuses += 1;
        else if (event === 'hello') c.hellos += 1;
        else if (event === 'cameras') c.cameras += 1;
      }
    }
    if (!stopping) c.unexpectedEnds += 1;
  } catch (error) {
    if (!stopping) {
      c.unexpectedEnds += 1;
      c.lastError = error instanceof Error ? error.message : String(error);
    }
  } finally {
    aborts.delete(abort);
  }
}

/** A viewer client: reads, and reconnects after 1 s until `stopping`. */
async function viewerClient(url: string, connected: () => void): Promise<void> {
  const c: SseCounts = {
    connects: 0,
    unexpectedEnds: 0,
    bytes: 0,
    strips: 0,
    statuses: 0,
    hellos: 0,
    cameras: 0,
  };
  sse.push(c);
  let first = true;
  while (!stopping) {
    await readStream(url, c, first ? connected : () => {});
    first = false;
    if (!stopping) await sleep(1_000);
  }
}

async function scrape(url: string): Promise<void> {
  const t = performance.now();
  try {
    const res = await fetch(url);
    const text = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    metricsBytes = text.length;
    scrapes += 1;
    const ms = performance.now() - t;
    scrapeTotalMs += ms;
    scrapeMaxMs = Math.max(scrapeMaxMs, ms);
  } catch {
    scrapeErrors += 1;
  }
}

async function subscribe(plan: SubscribePlan): Promise<void> {
  subscriber = await mqtt.connectAsync(plan.mqttUrl, {
    clientId: `cubestream-soak-${process.pid}`,
    reconnectPeriod: 1_000,
    connectTimeout: 10_000,
  });
  subscriber.on('message', (_topic, payload) => {
    mqttDecisions += 1;
    mqttBytes += payload.byteLength;
  });
  await subscriber.subscribeAsync(plan.decisionsTopic, { qos: 0 });
}

async function start(plan: ClientsPlan): Promise<void> {
  const eventsUrl = plan.viewerEventsUrl;
  if (eventsUrl !== undefined && plan.viewerClients > 0) {
    await Promise.all(
      Array.from(
        { length: plan.viewerClients },
        () => new Promise<void>((connected) => void viewerClient(eventsUrl, connected)),
      ),
    );
  }
  await scrape(plan.metricsUrl);
  scrapeTimer = setInterval(() => void scrape(plan.metricsUrl), plan.scrapeSeconds * 1000);
}

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'subscribe':
      subscribe(message.plan).then(
        () => send({ type: 'subscribed' }),
        (error: unknown) =>
          send({ type: 'failed', error: error instanceof Error ? error.message : String(error) }),
      );
      break;
    case 'start':
      start(message.plan).then(
        () => send({ type: 'ready' }),
        (error: unknown) =>
          send({ type: 'failed', error: error instanceof Error ? error.message : String(error) }),
      );
      break;
    case 'snapshot':
      send({ type: 'snapshot', counts: counts() });
      break;
    case 'stopping':
      stopping = true;
      clearInterval(scrapeTimer);
      break;
    case 'report':
      stopping = true;
      clearInterval(scrapeTimer);
      void (async () => {
        await sleep(message.graceMs);
        const final = counts();
        for (const abort of aborts) abort.abort();
        await subscriber?.endAsync().catch(() => {});
        send({ type: 'report', counts: final });
        process.disconnect?.();
      })();
      break;
  }
});

// Ctrl-C reaches the whole process group: the parent decides when this process ends.
process.on('SIGINT', () => {});
// Parent gone (crashed or killed): nothing to report to.
process.on('disconnect', () => process.exit(0));
