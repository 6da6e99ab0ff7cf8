/**
 * Camera state that survives its worker, end to end: `cubestream run` workers (child processes)
 * on a real `nats-server -js` with leased cameras and checkpoints every 16 blocks. A reference
 * worker decides 300 blocks of two cameras alone. On another stream, worker A decides the first
 * 100 blocks; worker B joins and A hands one camera over (released after its frames drained:
 * its state written, B loads it), blocks 100-199 follow; B is killed with -9 and A takes the
 * camera back from the last periodic checkpoint (block 191), blocks 200-299 follow. Up to block
 * 199 every decision's τ and top score equal the reference's (the handover is exact); after the
 * kill the state continues from 8 blocks back, and every block is still decided once.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraStateStore } from '../../connectors/shared/camera-state-store.js';
import type { Decision } from '../../src/core/decision.js';
import { brokersInstalled, startNatsServer, type TestBroker } from '../helpers/brokers.js';
import {
  heldCameras,
  leasedWorkerConfig,
  publishCameras,
  spawnLeasedWorker,
  storedDecisions,
} from '../helpers/leased-workers.js';
import { waitFor } from '../helpers/mqtt-collector.js';
import { type CliProcess, type TempRun, tempRun } from './cli-process.js';

const skip = !brokersInstalled && process.env.CI !== 'true';
const CAMERAS = ['cam0', 'cam1'];
const EVERY_BLOCKS = 16;
const WIDTH = 16;

describe.skipIf(skip)('camera state across cubestream run workers', () => {
  let nats: TestBroker;
  let run: TempRun;
  const workers: CliProcess[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
    run = await tempRun();
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await nats?.dispose();
    await run?.dispose();
  });

  /** A worker config on its own frames stream, decisions stream, lease bucket and state bucket. */
  function workerConfig(name: string): Promise<string> {
    return run.writeConfig(
      name,
      leasedWorkerConfig({
        servers: nats.url,
        prefix: name,
        stream: `${name}_FRAMES`,
        decisions: `${name}_DECISIONS`,
        durable: `${name}-worker`,
        cameras: CAMERAS,
        leases: {
          bucket: `${name}_LEASES`,
          ttlSeconds: 3,
          checkpoints: { everyBlocks: EVERY_BLOCKS, bucket: `${name}_STATE` },
        },
      }),
    );
  }

  function startWorker(file: string, id: string): CliProcess {
    const worker = spawnLeasedWorker(file, id);
    workers.push(worker);
    return worker;
  }

  const publish = (prefix: string, blocks: number, from = 0) =>
    publishCameras({
      servers: nats.url,
      prefix,
      stream: `${prefix}_FRAMES`,
      cameras: CAMERAS,
      blocks,
      width: WIDTH,
      from,
    });

  /** The decisions stored in a stream, once it holds `count` (after dedup), by camera and frame id. */
  async function decisions(stream: string, count: number): Promise<Map<string, Map<number, Decision>>> {
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const deadline = Date.now() + 120_000;
      while ((await jsm.streams.info(stream).catch(() => undefined))?.state.messages !== count) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} decisions in ${stream}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const byCamera = new Map<string, Map<number, Decision>>();
      for (const decision of await storedDecisions(jsm, stream)) {
        const frames = byCamera.get(decision.cameraId) ?? new Map<number, Decision>();
        expect(frames.has(decision.frameId), `${decision.cameraId} ${decision.frameId} twice`).toBe(false);
        frames.set(decision.frameId, decision);
        byCamera.set(decision.cameraId, frames);
      }
      return byCamera;
    } finally {
      await nc.close();
    }
  }

  const restoredLog = (worker: CliProcess, camera: string) =>
    worker.logs.filter((l) => l.camera === camera && l.msg === 'camera state restored');

  it('a released camera continues exactly on its next owner; after a kill -9, from the last checkpoint', async () => {
    const reference = startWorker(await workerConfig('REF'), 'ref');
    const referenceDone = publish('REF', 300).then(() => decisions('REF_DECISIONS', 600));

    const file = await workerConfig('MAIN');
    const a = startWorker(file, 'worker-a');
    await waitFor(() => heldCameras(a).size === 2, 'worker A holds both cameras', 60_000);
    await publish('MAIN', 100);
    await decisions('MAIN_DECISIONS', 200);

    // B joins: A releases one camera after its frames drained, B loads its state.
    const b = startWorker(file, 'worker-b');
    await waitFor(
      () => heldCameras(b).size === 1 && heldCameras(a).size === 1,
      'one camera moved to B',
      60_000,
    );
    const [moved] = [...heldCameras(b)] as [string];
    const [kept] = [...heldCameras(a)] as [string];
    await waitFor(() => restoredLog(b, moved).length === 1, 'B restored the moved camera', 10_000);
    expect(restoredLog(b, moved)[0]).toMatchObject({ frameId: 99, blocks: 100 });
    await publish('MAIN', 200, 100);
    await decisions('MAIN_DECISIONS', 400);

    // Kill -9 B: A takes the camera back from the last periodic checkpoint, after block 191.
    await new Promise((resolve) => setTimeout(resolve, 500)); // B's last acks land
    b.child.kill('SIGKILL');
    await waitFor(() => heldCameras(a).size === 2, 'A takes the moved camera back', 30_000);
    await waitFor(() => restoredLog(a, moved).length === 1, 'A restored the moved camera', 10_000);
    const lastCheckpoint = Math.floor(200 / EVERY_BLOCKS) * EVERY_BLOCKS - 1;
    expect(restoredLog(a, moved)[0]).toMatchObject({ frameId: lastCheckpoint, blocks: lastCheckpoint + 1 });
    await publish('MAIN', 300, 200);

    const main = await decisions('MAIN_DECISIONS', 600);
    const ref = await referenceDone;
    for (const camera of CAMERAS) {
      expect([...(main.get(camera)?.keys() ?? [])].sort((x, y) => x - y)).toEqual(
        Array.from({ length: 300 }, (_, i) => i),
      );
    }
    const same = (camera: string, from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => {
        const ours = main.get(camera)?.get(from + i);
        const theirs = ref.get(camera)?.get(from + i);
        return ours?.threshold === theirs?.threshold && ours?.maxScore === theirs?.maxScore;
      }).every(Boolean);
    // Handed over at a release: τ and scores as if one worker had decided the camera all along.
    expect(same(moved, 0, 200), `${moved}: blocks 0-199 as the reference`).toBe(true);
    expect(same(kept, 0, 300), `${kept}: every block as the reference`).toBe(true);
    // The moved camera's τ after block 100 is the window's, not the bundle's seed a fresh start has.
    expect(main.get(moved)?.get(100)?.threshold).not.toBe(main.get(moved)?.get(0)?.threshold);

    for (const worker of [a, reference]) worker.child.kill('SIGTERM');
    for (const worker of [a, reference]) expect((await worker.exited).code, worker.stderr()).toBe(0);

    // One object per ownership, named by the owner's lease revision: the moved camera keeps B's
    // (loaded by A) and A's second ownership's, higher; A's first was deleted when A loaded B's.
    const nc = await connect({ servers: nats.url });
    try {
      const store = new CameraStateStore(nc, { bucket: 'MAIN_STATE' });
      const epochs = async (camera: string) => (await store.checkpoints(camera)).map((c) => c.epoch);
      const movedEpochs = await epochs(moved);
      expect(movedEpochs).toHaveLength(2);
      expect(movedEpochs[0]).toBeGreaterThan(0);
      expect(movedEpochs[1]).toBeGreaterThan(movedEpochs[0] ?? Number.POSITIVE_INFINITY);
      expect(await epochs(kept)).toHaveLength(1);
    } finally {
      await nc.close();
    }
  }, 300_000);
});
