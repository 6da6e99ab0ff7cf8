/**
 * `genicam`: lines from Aravis's fake GigE Vision camera (real GVCP/GVSP over UDP on 127.0.0.1),
 * first read by Aravis's own C client (`arv-camera-test-0.8`), then by cubestream's genicam
 * source into the service's Deep SVDD pipeline, at the same settings in the same run. The
 * scenario starts and stops the camera itself, under the machine's fake-camera lock.
 */

import { loadRunConfig } from '../src/app/service/run-config.js';
import { FAKE_CAMERA_ADDRESS, startFakeCamera } from '../test/helpers/fake-gv-camera.js';
import { runAravisCameraTest } from './aravis-camera-test.js';
import { percentile } from './block-runner.js';
import { measureGenicamPipeline } from './genicam-pipeline-run.js';
import type { BenchEngine } from './pipelines.js';
import { round, type ScenarioResult, scenarioResult } from './scenario-result.js';

/** The camera of the scenario: an FX10-sized line (1024 px x 224 bands, Mono16) at 330 lines/s, in 32-line blocks. */
export const GENICAM = {
  width: 1024,
  bands: 224,
  pixelFormat: 'Mono16',
  linesPerSecond: 330,
  blockRows: 32,
} as const;

/**
 * GVSP packet size of both sides (`GevSCPSPacketSize`, bytes): jumbo frames, as GigE Vision line
 * scanners are installed. At the fake camera's own 1400 bytes it needs 0.86 of a core to send
 * 150 MB/s and skips a line whenever its sending is held up past the 3 ms line period, so the
 * ratio measured how much CPU the client left it; at 9000 it needs 0.40.
 */
export const GENICAM_PACKET_BYTES = 9000;

/**
 * Scoring workers of the cubestream side unless the caller names a count: the camera simulator
 * takes one of this machine's two cores, and 0.3 M px/s needs one worker (two scoring at once
 * held the camera up, ratio 0.92-0.93 against 0.98-0.99 with one).
 */
export const GENICAM_SCORER_WORKERS = 1;

/** The run configuration the cubestream side starts from (source, model, pipeline), as `cubestream run` would. */
export const GENICAM_RUN_CONFIG = 'configs/run/genicam-fake.yaml';

/** Options of {@link runGenicam}. */
export interface GenicamScenarioOptions {
  /** Seconds each side streams (Aravis's client, then cubestream), after its warm-up. */
  readonly seconds: number;
  /** The scorer's engine; absent: the run configuration's (`auto`, as the service picks). */
  readonly engine?: BenchEngine;
  /** Scoring worker threads; absent: {@link GENICAM_SCORER_WORKERS}. */
  readonly workers?: number;
  /** GVSP packet size of both sides in bytes (default {@link GENICAM_PACKET_BYTES}); 0: the camera's own. */
  readonly packetSize?: number;
  /** GVSP packets the fake camera drops per thousand (`-r`; default 0). */
  readonly lossPerThousand?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/**
 * Runs the scenario once: takes the fake-camera lock and starts `arv-fake-gv-camera-0.8 -i
 * 127.0.0.1`, streams with `arv-camera-test-0.8` for `seconds` (+1 s left out), then with
 * `genicamSource` into `deepSvddPipeline` (`configs/run/genicam-fake.yaml`, its `models/genicam-fake`
 * bundle, frame rate and block size overridden to {@link GENICAM}'s, both sides at the same packet
 * size, {@link GENICAM_SCORER_WORKERS} scoring worker) for `seconds` after a
 * warm-up (`GENICAM_WARMUP_MS`), and stops the camera.
 *
 * @throws when the camera or Aravis's client is missing or fails, or the stream fails
 * @example
 * ```ts
 * const result = await runGenicam({ seconds: 10 });
 * console.log(result.camera?.ratio, result.camera?.incomplete);
 * ```
 */
export async function runGenicam(options: GenicamScenarioOptions): Promise<ScenarioResult> {
  const log = options.log ?? (() => undefined);
  const camera = await startFakeCamera(
    options.lossPerThousand === undefined ? {} : { lossPerThousand: options.lossPerThousand },
  );
  try {
    const settings = { camera: FAKE_CAMERA_ADDRESS, ...GENICAM };
    const packetSize = options.packetSize ?? GENICAM_PACKET_BYTES;
    const workers = options.workers ?? GENICAM_SCORER_WORKERS;
    const aravis = await runAravisCameraTest({
      camera: settings.camera,
      width: settings.width,
      height: settings.bands,
      pixelFormat: settings.pixelFormat,
      frameRate: settings.linesPerSecond,
      seconds: options.seconds,
      ...(packetSize > 0 ? { packetSize } : {}),
    });
    log(
      `genicam: arv-camera-test-0.8 ${aravis.framesPerSecond.toFixed(1)} frames/s (each second: ${aravis.perSecond.join(', ')}; ` +
        `payload ${aravis.payloadBytes} B, ${aravis.failures} failed, ${aravis.missingFrames} missing)`,
    );
    const config = await loadRunConfig(GENICAM_RUN_CONFIG, [
      `source.camera=${settings.camera}`,
      `source.features.width=${settings.width}`,
      `source.features.height=${settings.bands}`,
      `source.features.pixelFormat=${settings.pixelFormat}`,
      `source.features.frameRate=${settings.linesPerSecond}`,
      'source.lineLayout=bands-rows',
      ...(packetSize > 0 ? [`source.features.packetSize=${packetSize}`] : []),
      `source.blockRows=${settings.blockRows}`,
      ...(options.engine === undefined ? [] : [`pipeline.scorer=${options.engine}`]),
      `pipeline.scorerWorkers=${workers}`,
    ]);
    const m = await measureGenicamPipeline(config, options.seconds, settings.linesPerSecond);
    const result = scenarioResult({
      name: 'genicam',
      engine: m.engine,
      pixels: m.pixelsDecided,
      seconds: m.seconds,
      latencies: m.latencies,
      peakRssMb: m.peakRssMb,
      dropped: m.dropped,
      stageTotals: m.stageTotals,
      warmStageTotals: {},
      earlyShare: m.earlyShare,
    });
    const framesPerSecond = m.linesReceived / m.seconds;
    return {
      ...result,
      camera: {
        framesPerSecond: round(framesPerSecond, 1),
        decidedFramesPerSecond: round(m.linesDecided / m.seconds, 1),
        aravisFramesPerSecond: round(aravis.framesPerSecond, 1),
        ratio: round(aravis.framesPerSecond > 0 ? framesPerSecond / aravis.framesPerSecond : Number.NaN),
        incomplete: m.incompleteLines,
        gapLines: m.gapLines,
        aravisIncomplete: aravis.failures + aravis.missingFrames,
        p99CaptureToDecisionMs: round(percentile(m.latencies, 0.99), 2),
        rejected: m.rejected,
        cpuCores: round(m.cpuCores, 2),
        // As the camera read it back at open (what it streamed at), not only what was asked.
        packetSize: typeof m.features.GevSCPSPacketSize === 'number' ? m.features.GevSCPSPacketSize : null,
        scorerWorkers: workers,
      },
    };
  } finally {
    await camera.dispose();
  }
}
