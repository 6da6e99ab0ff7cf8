/**
 * Shared by the camera-lease e2e tests and the scale-out bench: the cameras a `cubestream run`
 * worker holds (from its log), and simulated cameras published into a frames stream.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { parseDecision } from '../../connectors/codec/decision-json.js';
import { JetStreamFramePublisher } from '../../connectors/sinks/frame-publisher.js';
import { simulatedLineScan } from '../../connectors/sources/simulated-line-scan.js';
import { resolveDemoModelDir } from '../../src/app/service/demo-settings.js';
import type { Decision } from '../../src/core/decision.js';
import { type CliProcess, spawnCli } from '../e2e/cli-process.js';

/** Cameras a worker holds now, from its `camera lease acquired|released|taken|expired` log lines. */
export function heldCameras(worker: CliProcess): Set<string> {
  const owned = new Set<string>();
  for (const line of worker.logs) {
    if (typeof line.camera !== 'string') continue;
    if (line.msg === 'camera lease acquired') owned.add(line.camera);
    if (
      line.msg === 'camera lease released' ||
      line.msg === 'camera lease taken' ||
      line.msg === 'camera lease expired'
    )
      owned.delete(line.camera);
  }
  return owned;
}

/** What {@link publishCameras} publishes. */
export interface PublishCamerasOptions {
  readonly servers: string | string[];
  readonly prefix: string;
  readonly stream: string;
  readonly cameras: readonly string[];
  readonly blocks: number;
  readonly width: number;
  readonly blockRows?: number;
  /** Paced at this line rate per camera; absent: as fast as the server acknowledges. */
  readonly linesPerSecond?: number;
  /** Stream replicas when the publisher creates it. */
  readonly replicas?: number;
  /** Blocks below this frame id are generated (the same seeded frames) but not published. */
  readonly from?: number;
}

/**
 * Publishes `blocks` simulated blocks per camera (seeded, 5 % foreign bodies; those from `from`
 * on) and waits for every PubAck.
 */
export async function publishCameras(options: PublishCamerasOptions): Promise<void> {
  const publisher = await JetStreamFramePublisher.connect({
    servers: options.servers,
    subjectPrefix: options.prefix,
    stream: {
      name: options.stream,
      ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
    },
    cameraIds: [...options.cameras],
  });
  await Promise.all(
    options.cameras.map(
      (cameraId, i) =>
        new Promise<void>((resolve, reject) => {
          simulatedLineScan({
            cameraId,
            width: options.width,
            blockRows: options.blockRows ?? 8,
            seed: 11 + i,
            anomalyRate: 0.05,
            maxBlocks: options.blocks,
            ...(options.linesPerSecond === undefined
              ? { demand: publisher.demand }
              : { linesPerSecond: options.linesPerSecond }),
          }).frames.subscribe({
            next: (frame) => {
              if (frame.frameId < (options.from ?? 0)) frame.release?.();
              else void publisher.publish(frame).finally(() => frame.release?.());
            },
            error: reject,
            complete: resolve,
          });
        }),
    ),
  );
  await publisher.flush(60_000);
  await publisher.close();
}

/**
 * Creates the frames stream through the camera gateway's publisher, retried for up to a minute
 * while a new cluster elects its meta leader (JetStream answers `no responders` until then).
 */
export async function createFrameStream(options: {
  readonly servers: string | string[];
  readonly prefix: string;
  readonly stream: string;
  readonly cameras: readonly string[];
  readonly replicas: number;
}): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const gateway = await JetStreamFramePublisher.connect({
        servers: options.servers,
        subjectPrefix: options.prefix,
        stream: { name: options.stream, replicas: options.replicas },
        cameraIds: [...options.cameras],
      });
      await gateway.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Every decision stored in the JetStream stream `stream`, in stream order. */
export async function storedDecisions(jsm: JetStreamManager, stream: string): Promise<Decision[]> {
  const info = await jsm.streams.info(stream);
  const decisions: Decision[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq });
    if (msg !== null) decisions.push(parseDecision(msg.data));
  }
  return decisions;
}

/** What {@link leasedWorkerConfig} varies. */
export interface LeasedWorkerConfigOptions {
  readonly servers: string | string[];
  readonly prefix: string;
  readonly stream: string;
  readonly decisions: string;
  readonly durable: string;
  readonly cameras: readonly string[];
  /** The `source.leases` section. */
  readonly leases: Record<string, unknown>;
  /** Replicas of the decisions stream (a cluster); default 1. */
  readonly replicas?: number;
  readonly publishTimeoutMs?: number;
}

/**
 * The run config of a leased `cubestream run` worker for the e2e tests: the demo model, frames
 * from `stream`, decisions to the JetStream stream `decisions` (duplicate window 300 s), 8 frames
 * in flight, a blocking queue of 16, no viewer, metrics on a free port.
 */
export function leasedWorkerConfig(options: LeasedWorkerConfigOptions): Record<string, unknown> {
  return {
    source: {
      kind: 'jetstream',
      servers: options.servers,
      stream: options.stream,
      subjectPrefix: options.prefix,
      durable: options.durable,
      cameraIds: [...options.cameras],
      ackWaitSeconds: 30,
      maxAckPending: 8,
      leases: options.leases,
    },
    model: { path: resolveDemoModelDir() },
    pipeline: { backpressure: { capacity: 16, policy: 'block' } },
    sinks: {
      nats: {
        servers: options.servers,
        subjectPrefix: options.prefix,
        stream: { name: options.decisions, duplicateWindowMs: 300_000, replicas: options.replicas ?? 1 },
        publishTimeoutMs: options.publishTimeoutMs ?? 5_000,
      },
    },
    metrics: { port: 0, host: '127.0.0.1' },
    viewer: { enabled: false },
    shutdown: { deadlineMs: 15_000 },
  };
}

/** Starts `cubestream run --config file` as the leased worker `id` (info logs, parsed). */
export function spawnLeasedWorker(file: string, id: string): CliProcess {
  return spawnCli(['run', '--config', file, '--set', `source.leases.workerId=${id}`], {
    CUBESTREAM_LOG_LEVEL: 'info',
  });
}
