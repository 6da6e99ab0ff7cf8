/**
 * Keeps the retained per-camera MQTT status (`<prefix>/<camera>/status`) in step with the
 * threshold τ without flooding the broker: a camera's status is republished when τ moved by at
 * least `minRelativeChange` since the last published value, at most once per `minIntervalMs`
 * (a change that arrives too early is published when the interval ends).
 */
import type { Logger } from '../../telemetry/logger.js';

/** Where the status goes (the MQTT sink's `publishStatus`). */
export type StatusPublisher = (cameraId: string, update: { threshold: number }) => Promise<void>;

/** Options of {@link StatusRefresher}. */
export interface StatusRefresherOptions {
  readonly publish: StatusPublisher;
  /** Share of the last published τ that counts as a notable change (0.05 = 5 %). */
  readonly minRelativeChange: number;
  /** Least time between two publishes of one camera's status, ms. */
  readonly minIntervalMs: number;
  readonly logger: Logger;
  /** Clock, epoch ms (default `Date.now`). */
  readonly now?: () => number;
}

interface CameraStatusState {
  published: number | undefined;
  latest: number;
  lastAt: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Rate-limited status refresh per camera.
 *
 * @example
 * ```ts
 * import { MqttDecisionSink } from 'cubestream/connectors';
 * import { deepSvddPipeline } from 'cubestream/operators';
 * const mqtt = new MqttDecisionSink({ url: 'mqtt://127.0.0.1:1883', cameraIds: ['cam0'], modelVersion: bundle.manifest.version });
 * const refresher = new StatusRefresher({ publish: (c, u) => mqtt.publishStatus(c, u), minRelativeChange: 0.05, minIntervalMs: 5000, logger });
 * const pipeline = deepSvddPipeline(bundle, { hooks: { onThreshold: (camera, tau) => refresher.update(camera, tau) } });
 * ```
 */
export class StatusRefresher {
  private readonly cameras = new Map<string, CameraStatusState>();
  private readonly now: () => number;
  private closed = false;
  /** Status publishes started (for tests and logs). */
  publishes = 0;

  /** @param options - see {@link StatusRefresherOptions} */
  constructor(private readonly options: StatusRefresherOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Notes the τ a camera's frames now get; publishes the status if it moved notably. */
  update(cameraId: string, threshold: number): void {
    if (this.closed || !Number.isFinite(threshold)) return;
    let state = this.cameras.get(cameraId);
    if (state === undefined) {
      state = { published: undefined, latest: threshold, lastAt: Number.NEGATIVE_INFINITY, timer: undefined };
      this.cameras.set(cameraId, state);
    }
    state.latest = threshold;
    if (!this.notable(state) || state.timer !== undefined) return;
    const wait = state.lastAt + this.options.minIntervalMs - this.now();
    if (wait <= 0) {
      this.send(cameraId, state);
      return;
    }
    const camera = state;
    state.timer = setTimeout(() => {
      camera.timer = undefined;
      if (!this.closed && this.notable(camera)) this.send(cameraId, camera);
    }, wait);
    state.timer.unref();
  }

  /** Cancels pending refreshes. */
  close(): void {
    this.closed = true;
    for (const state of this.cameras.values()) clearTimeout(state.timer);
  }

  private notable(state: CameraStatusState): boolean {
    if (state.published === undefined) return true;
    const base = Math.abs(state.published);
    const change = Math.abs(state.latest - state.published);
    return base === 0 ? change > 0 : change / base >= this.options.minRelativeChange;
  }

  private send(cameraId: string, state: CameraStatusState): void {
    state.published = state.latest;
    state.lastAt = this.now();
    this.publishes += 1;
    this.options
      .publish(cameraId, { threshold: state.latest })
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error, camera: cameraId }, 'status refresh failed'),
      );
  }
}
