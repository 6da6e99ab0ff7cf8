/**
 * Which cameras a broker-fed source admits. The topic or subject a message arrived on decides
 * its camera (broker ACLs are written per topic); the message's own `camera_id` may only repeat
 * it. Only listed cameras are admitted, unless unlisted ones are allowed, and then at most
 * `maxCameras` distinct ones: a sender cannot open a broker connection, a retained status and a
 * set of metric series per made-up id.
 */
import { CAMERA_ID_RULE, isCameraId } from '../../src/core/camera-id.js';
import { describeValue } from '../../src/core/errors.js';
import { InvalidFrameError } from '../../src/core/frame.js';

/** Options of {@link CameraGate}. */
export interface CameraGateOptions {
  /** Cameras admitted (and the only ones, unless `acceptUnlisted`). */
  readonly cameraIds: readonly string[];
  /** Admit cameras that are not listed, up to `maxCameras` in all (default false). */
  readonly acceptUnlisted?: boolean;
  /** Most distinct cameras admitted, listed ones included (default 16). */
  readonly maxCameras?: number;
}

/** Default {@link CameraGateOptions.maxCameras}. */
export const DEFAULT_MAX_CAMERAS = 16;

/**
 * Admits or refuses camera ids; every refusal is an {@link InvalidFrameError} with reason
 * `camera` whose message says why.
 *
 * @example
 * ```ts
 * const gate = new CameraGate({ cameraIds: ['cam0'] });
 * gate.check('cam0');  // undefined: admitted
 * gate.check('cam9');  // InvalidFrameError: camera "cam9" is not in cameraIds [cam0]
 * ```
 */
export class CameraGate {
  private readonly admitted: Set<string>;
  private readonly acceptUnlisted: boolean;
  private readonly maxCameras: number;

  /** @param options - see {@link CameraGateOptions} */
  constructor(private readonly options: CameraGateOptions) {
    this.admitted = new Set(options.cameraIds);
    this.acceptUnlisted = options.acceptUnlisted ?? false;
    this.maxCameras = Math.max(options.maxCameras ?? DEFAULT_MAX_CAMERAS, this.admitted.size);
  }

  /** Admits `cameraId` (returns undefined) or returns why it is refused. */
  check(cameraId: string, field = 'channel'): InvalidFrameError | undefined {
    if (this.admitted.has(cameraId)) return undefined;
    if (!isCameraId(cameraId)) return new InvalidFrameError('camera', field, cameraId, CAMERA_ID_RULE);
    if (!this.acceptUnlisted) {
      return new InvalidFrameError(
        'camera',
        field,
        cameraId,
        `is not an admitted camera (cameraIds: ${this.listed()}; set acceptUnlistedCameras to admit others)`,
      );
    }
    if (this.admitted.size >= this.maxCameras) {
      return new InvalidFrameError(
        'camera',
        field,
        cameraId,
        `would be camera ${this.admitted.size + 1}, past maxCameras ${this.maxCameras}`,
      );
    }
    this.admitted.add(cameraId);
    return undefined;
  }

  /**
   * Checks that a decoded message's camera is the one its channel named.
   *
   * @returns why not, or undefined when they agree
   */
  agree(channelCamera: string, messageCamera: string): InvalidFrameError | undefined {
    if (channelCamera === messageCamera) return undefined;
    return new InvalidFrameError(
      'camera',
      '__metadata__.camera_id',
      messageCamera,
      `disagrees with the camera of the topic/subject it arrived on (${describeValue(channelCamera)})`,
    );
  }

  private listed(): string {
    const ids = this.options.cameraIds;
    return ids.length <= 8 ? `[${ids.join(', ')}]` : `[${ids.slice(0, 8).join(', ')}, ...]`;
  }
}
