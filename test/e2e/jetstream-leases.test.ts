/**
 * Camera leases end to end: `cubestream run` workers (child processes) on a 3-node JetStream
 * cluster (frames, decisions, leases and camera state replicated 3 times) share 4 cameras whose
 * frames the camera gateway keeps publishing. Two workers split them; a
 * third joins and gets its share (rebalance); one is killed with -9 mid-run and its cameras move
 * to the others after the lease TTL. Every block is decided exactly once after dedup
 * (Nats-Msg-Id), and per camera the stored decisions keep the frames' order.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokersInstalled, startNatsCluster, type TestNatsCluster } from '../helpers/brokers.js';
import {
  createFrameStream,
  heldCameras,
  leasedWorkerConfig,
  publishCameras,
  spawnLeasedWorker,
  storedDecisions,
} from '../helpers/leased-workers.js';
import { waitFor } from '../helpers/mqtt-collector.js';
import { type CliProcess, type TempRun, tempRun } from './cli-process.js';

const skip = !brokersInstalled && process.env.CI !== 'true';
const CAMERAS = ['cam0', 'cam1', 'cam2', 'cam3'];
/** Blocks per camera: 2,000 in all. */
const BLOCKS = 500;
/** Lines per second per camera (blocks of 8 lines: 40 blocks/s each, 160 in all). */
const LINES_PER_SECOND = 320;
const PREFIX = 'lease';
const STREAM = 'LEASE_FRAMES';
const DECISIONS = 'LEASE_DECISIONS';

describe.skipIf(skip)('camera leases across cubestream run workers on a 3-node cluster', () => {
  let cluster: TestNatsCluster;
  let servers: string[];
  let run: TempRun;
  const workers: CliProcess[] = [];
  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    servers = [...cluster.urls];
    run = await tempRun();
    await createFrameStream({ servers, prefix: PREFIX, stream: STREAM, cameras: CAMERAS, replicas: 3 });
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await cluster?.dispose();
    await run?.dispose();
  });

  function workerConfig(): Promise<string> {
    return run.writeConfig(
      'worker',
      leasedWorkerConfig({
        servers,
        prefix: PREFIX,
        stream: STREAM,
        decisions: DECISIONS,
        durable: 'lease-worker',
        cameras: CAMERAS,
        leases: {
          bucket: 'LEASE_TEST',
          ttlSeconds: 5,
          replicas: 3,
          checkpoints: { everyBlocks: 50, bucket: 'LEASE_STATE' },
        },
        replicas: 3,
      }),
    );
  }

  function startWorker(file: string, id: string): CliProcess {
    const worker = spawnLeasedWorker(file, id);
    workers.push(worker);
    return worker;
  }

  /** The lease log lines of every worker, for a failure message. */
  function leaseLog(): string {
    return workers
      .map((w, i) =>
        w.logs
          .filter((l) => String(l.msg).startsWith('camera lease'))
          .map(
            (l) =>
              `#${i} ${String(l.time)} ${String(l.camera)} ${String(l.msg)} ${JSON.stringify(l.err ?? '')}`,
          )
          .join('\n'),
      )
      .join('\n');
  }

  const publishAll = () =>
    publishCameras({
      servers,
      prefix: PREFIX,
      stream: STREAM,
      cameras: CAMERAS,
      blocks: BLOCKS,
      width: 16,
      linesPerSecond: LINES_PER_SECOND,
    });

  it('splits 4 cameras over the workers, rebalances on a join, moves a killed worker’s cameras, decides every block once and in order', async () => {
    const file = await workerConfig();
    const a = startWorker(file, 'worker-a');
    const b = startWorker(file, 'worker-b');
    const publishing = publishAll();
    // Two workers: two cameras each.
    await waitFor(
      () => heldCameras(a).size === 2 && heldCameras(b).size === 2,
      'two cameras per worker',
      60_000,
    ).catch((error: unknown) => {
      throw new Error(
        `${String(error)}\n${leaseLog()}\n${a.stderr()}\n${b.stderr()}\nb exit ${b.child.exitCode}\n${b.lines
          .filter((l) => !l.includes('"level":30'))
          .slice(0, 6)
          .join('\n')}`,
      );
    });
    expect(new Set([...heldCameras(a), ...heldCameras(b)])).toEqual(new Set(CAMERAS));

    // A third joins: shares 2, 1, 1; the worker over its share hands one over.
    const c = startWorker(file, 'worker-c');
    await waitFor(() => heldCameras(c).size === 1, 'the joining worker gets a camera', 60_000);
    await waitFor(() => heldCameras(a).size + heldCameras(b).size === 3, 'the others hold the rest', 30_000);
    const released = [...a.logs, ...b.logs].filter((l) => l.msg === 'camera lease released');
    const handed = [...heldCameras(c)][0];
    expect(released.map((l) => l.camera)).toContain(handed);
    // Handed over with its state: the joining worker continues the camera, not the bundle's start.
    await waitFor(
      () => c.logs.some((l) => l.msg === 'camera state restored' && l.camera === handed),
      'the joining worker restored the camera state',
      10_000,
    );

    // Kill -9 a worker holding cameras mid-run: its leases expire and the others take them.
    const victim = heldCameras(a).size > 0 ? a : b;
    const survivors = [a, b, c].filter((w) => w !== victim);
    const orphaned = [...heldCameras(victim)];
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(
      () => orphaned.every((camera) => survivors.some((w) => heldCameras(w).has(camera))),
      'the killed worker’s cameras taken over',
      30_000,
    );
    console.log(`takeover after kill -9: ${Date.now() - killedAt} ms (lease TTL 5 s)`);
    await publishing;

    // Every block decided once after dedup, in frame order per camera.
    const nc = await connect({ servers });
    try {
      const jsm = await jetstreamManager(nc);
      const deadline = Date.now() + 120_000;
      while ((await jsm.streams.info(DECISIONS)).state.messages < CAMERAS.length * BLOCKS) {
        if (Date.now() > deadline) throw new Error('timed out waiting for every block decided');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const info = await jsm.streams.info(DECISIONS);
      expect(info.state.messages).toBe(CAMERAS.length * BLOCKS);
      const order = new Map<string, number[]>();
      for (const decision of await storedDecisions(jsm, DECISIONS))
        order.set(decision.cameraId, [...(order.get(decision.cameraId) ?? []), decision.frameId]);
      for (const camera of CAMERAS) {
        const ids = order.get(camera) ?? [];
        expect(ids, camera).toEqual(Array.from({ length: BLOCKS }, (_, i) => i));
      }
    } finally {
      await nc.close();
    }
    for (const worker of survivors) worker.child.kill('SIGTERM');
    for (const worker of survivors) expect((await worker.exited).code, worker.stderr()).toBe(0);
  }, 300_000);
});
