/**
 * The scale-out bench (`npm run bench -- --scenario scaleout --json`): `cubestream run` workers
 * (child processes) with camera leases on a real `nats-server -js` started here decide frames
 * stored beforehand in the frames stream, with 1, 2 and 3 workers; then the takeover time after a
 * kill -9 of one of two workers while the gateway keeps publishing.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { resolveDemoModelDir } from '../src/app/service/demo-settings.js';
import { type CliProcess, spawnCli, tempRun } from '../test/e2e/cli-process.js';
import { startNatsServer, type TestBroker } from '../test/helpers/brokers.js';
import { heldCameras, publishCameras } from '../test/helpers/leased-workers.js';
import { round } from './scenario-result.js';

/** Options of {@link runScaleout}. */
export interface ScaleoutOptions {
  /** Blocks per camera per round (4 cameras). */
  readonly blocksPerCamera?: number;
  /** Worker counts to measure. */
  readonly workers?: readonly number[];
  readonly log: (line: string) => void;
}

/** One round's figures. */
export interface ScaleoutRound {
  readonly workers: number;
  /** Blocks decided (stored in the decisions stream) per second, from the first to the last. */
  readonly blocksPerSecond: number;
}

/** The scenario's JSON (`scenarios[]` entry of the bench's last line). */
export interface ScaleoutResult {
  readonly name: 'scaleout';
  readonly cameras: number;
  readonly blockPixels: string;
  readonly rounds: readonly ScaleoutRound[];
  /** kill -9 of a worker holding cameras -> another worker acquired all of them, ms. */
  readonly takeoverMs: number;
  readonly leaseTtlSeconds: number;
}

const CAMERAS = ['cam0', 'cam1', 'cam2', 'cam3'];
const TTL_SECONDS = 5;
const WIDTH = 64;
const ROWS = 8;

function publish(url: string, prefix: string, blocks: number, linesPerSecond?: number): Promise<void> {
  return publishCameras({
    servers: url,
    prefix,
    stream: `${prefix.toUpperCase()}_FRAMES`,
    cameras: CAMERAS,
    blocks,
    width: WIDTH,
    blockRows: ROWS,
    ...(linesPerSecond === undefined ? {} : { linesPerSecond }),
  });
}

async function until(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`scaleout bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs the rounds and the takeover; every process it starts is stopped before it returns. */
export async function runScaleout(options: ScaleoutOptions): Promise<ScaleoutResult> {
  const blocks = options.blocksPerCamera ?? 500;
  const counts = options.workers ?? [1, 2, 3];
  const nats: TestBroker = await startNatsServer();
  const run = await tempRun();
  const workers: CliProcess[] = [];
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    const config = (prefix: string) =>
      run.writeConfig(prefix, {
        source: {
          kind: 'jetstream',
          servers: nats.url,
          stream: `${prefix.toUpperCase()}_FRAMES`,
          subjectPrefix: prefix,
          durable: `${prefix}-worker`,
          cameraIds: CAMERAS,
          maxAckPending: 16,
          leases: { bucket: `${prefix.toUpperCase()}_LEASES`, ttlSeconds: TTL_SECONDS },
        },
        model: { path: resolveDemoModelDir() },
        pipeline: { backpressure: { capacity: 8, policy: 'block' } },
        sinks: {
          nats: {
            servers: nats.url,
            subjectPrefix: prefix,
            stream: { name: `${prefix.toUpperCase()}_DECISIONS` },
          },
        },
        metrics: { port: 0, host: '127.0.0.1' },
        viewer: { enabled: false },
      });
    const start = (file: string, id: string): CliProcess => {
      const worker = spawnCli(['run', '--config', file, '--set', `source.leases.workerId=${id}`]);
      workers.push(worker);
      return worker;
    };
    const stored = async (prefix: string): Promise<number> => {
      try {
        return (await jsm.streams.info(`${prefix.toUpperCase()}_DECISIONS`)).state.messages;
      } catch {
        return 0;
      }
    };

    const rounds: ScaleoutRound[] = [];
    for (const count of counts) {
      const prefix = `scale${count}`;
      options.log(
        `scaleout: ${count} worker(s), ${CAMERAS.length} cameras x ${blocks} blocks of ${ROWS} x ${WIDTH} px`,
      );
      await publish(nats.url, prefix, blocks);
      const file = await config(prefix);
      const pool = Array.from({ length: count }, (_, i) => start(file, `${prefix}-w${i}`));
      const total = CAMERAS.length * blocks;
      await until(async () => (await stored(prefix)) > 0, 'the first decision', 120_000);
      const t0 = performance.now();
      const first = await stored(prefix);
      await until(async () => (await stored(prefix)) >= total, 'every block decided', 600_000);
      const seconds = (performance.now() - t0) / 1000;
      const perSecond = (total - first) / seconds;
      rounds.push({ workers: count, blocksPerSecond: round(perSecond, 1) });
      options.log(
        `scaleout: ${count} worker(s): ${perSecond.toFixed(1)} blocks/s (${total - first} blocks in ${seconds.toFixed(1)} s)`,
      );
      for (const worker of pool) worker.child.kill('SIGTERM');
      await Promise.all(pool.map((worker) => worker.exited));
    }

    // Takeover: two workers, the gateway publishing at the line rate, one killed with -9.
    const prefix = 'takeover';
    const file = await config(prefix);
    const publishing = publish(nats.url, prefix, 200, 160);
    const pair = [start(file, 'takeover-a'), start(file, 'takeover-b')] as const;
    await until(
      () => heldCameras(pair[0]).size === 2 && heldCameras(pair[1]).size === 2,
      'two cameras each',
      120_000,
    );
    const [victim, survivor] = pair;
    const orphaned = [...heldCameras(victim)];
    victim.child.kill('SIGKILL');
    const killedAt = performance.now();
    await until(() => orphaned.every((camera) => heldCameras(survivor).has(camera)), 'the takeover', 120_000);
    const takeoverMs = Math.round(performance.now() - killedAt);
    options.log(`scaleout: takeover after kill -9: ${takeoverMs} ms (lease TTL ${TTL_SECONDS} s)`);
    await publishing;
    survivor.child.kill('SIGTERM');
    await survivor.exited;
    return {
      name: 'scaleout',
      cameras: CAMERAS.length,
      blockPixels: `${ROWS}x${WIDTH}`,
      rounds,
      takeoverMs,
      leaseTtlSeconds: TTL_SECONDS,
    };
  } finally {
    for (const worker of workers)
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await nc.close();
    await nats.dispose();
    await run.dispose();
  }
}
