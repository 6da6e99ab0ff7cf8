/**
 * The service's side of camera state checkpoints (docs/scaling-out.md §3): when a leased
 * `jetstream` source has `leases.checkpoints` enabled, one {@link CameraCheckpoints} the pipeline
 * lends its state to and the source carries from owner to owner; each outcome logged and counted
 * in `cubestream_camera_state_total{camera,outcome}`.
 */
import type { CameraStateOutcome } from '../../../connectors/shared/camera-state-sync.js';
import { CameraCheckpoints } from '../../scoring/camera-checkpoints.js';
import type { Logger } from '../../telemetry/logger.js';
import type { SourceConfig } from './run-config.js';
import type { SourceHooks } from './sources.js';

/** The checkpoints the pipeline lends to, and the source hook that stores and loads them. */
export interface CameraStateWiring {
  readonly checkpoints: CameraCheckpoints;
  readonly hooks: Pick<SourceHooks, 'cameraState'>;
}

/**
 * The camera state wiring of a source, or undefined when its cameras are not leased or their
 * checkpoints are off.
 *
 * @example
 * ```ts
 * import { createLogger } from '../../telemetry/logger.js';
 * declare const source: import('./run-config.js').SourceConfig;
 * const wiring = cameraStateWiring(source, createLogger(), (camera, outcome) => console.log(camera, outcome));
 * // deepSvddPipeline(bundle, { checkpoints: wiring?.checkpoints }); createSource(source, { ...wiring?.hooks })
 * ```
 */
export function cameraStateWiring(
  source: SourceConfig,
  log: Logger,
  count: (camera: string, outcome: CameraStateOutcome) => void,
): CameraStateWiring | undefined {
  if (source.kind !== 'jetstream' || source.leases === undefined) return undefined;
  const settings = source.leases.checkpoints;
  if (!settings.enabled) return undefined;
  const refused = (camera: string, error: Error): void => {
    count(camera, 'refused');
    log.warn({ err: error, camera }, 'camera state refused; the camera starts from the bundle');
  };
  const checkpoints = new CameraCheckpoints({
    everyBlocks: settings.everyBlocks,
    onRefused: (error) => refused(error.camera, error),
  });
  return {
    checkpoints,
    hooks: {
      cameraState: {
        keeper: checkpoints,
        onRestored: (camera, restored) => {
          count(camera, restored === undefined ? 'fresh' : 'restored');
          if (restored === undefined) {
            log.info(
              { camera, bucket: settings.bucket },
              'no camera state stored; the camera starts from the bundle',
            );
          } else {
            log.info(
              { camera, bucket: settings.bucket, frameId: restored.frameId, blocks: restored.blocks },
              'camera state restored',
            );
          }
        },
        onRefused: refused,
        onSaved: (camera, bytes, why) => {
          count(camera, 'saved');
          log.debug({ camera, bytes, why }, 'camera state stored');
        },
        onFailed: (camera, error) => {
          count(camera, 'failed');
          log.warn({ err: error, camera, bucket: settings.bucket }, 'camera state not stored');
        },
      },
    },
  };
}
