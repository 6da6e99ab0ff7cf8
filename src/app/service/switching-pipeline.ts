/**
 * A pipeline that can hand over to another one while frames flow, without losing or repeating a
 * block and without reordering decisions (the hot model reload of docs/model-rollout.md).
 *
 * Each model runs in its own *lane*: its pipeline, subscribed to a subject the frames are routed
 * into. A switch draws a line between two frames as they arrive: every frame before it goes to
 * the old lane, every frame after it to the new one. The old lane's input then completes, so its
 * pipeline decides what it still holds (its queue drains, as at a stop) and completes; the new
 * lane's decisions are held back until then and follow in order. The old lane is retired
 * (`onRetired`: its scorer is closed) once it has completed.
 */
import { filter, Observable, type OperatorFunction, Subject, type Subscription } from 'rxjs';
import type { DecidedFrame } from '../../core/decision.js';
import type { CubeFrame } from '../../core/frame.js';
import type { RowsReady } from '../../core/rows-ready.js';

/** Where a switch may happen. */
export type SwitchBoundary = 'block' | 'frame';

/** What a lane's pipeline is built with. */
export interface LaneContext {
  /** Rows of blocks being captured, while this lane is the one frames go to (undefined without early rows). */
  readonly rows: Observable<RowsReady> | undefined;
  /** Reports this lane's queue depth; returns the depth of every open lane together. */
  readonly queueDepth: (depth: number) => number;
}

/** Options of {@link SwitchingPipeline}. */
export interface SwitchingPipelineOptions<L extends object> {
  /** Builds a lane's pipeline (called once per lane, when frames start going to it). */
  readonly build: (lane: L, context: LaneContext) => OperatorFunction<CubeFrame, DecidedFrame>;
  /**
   * `block` (default): a switch happens at once, between the last frame that arrived and the next.
   * `frame`: only before a block that starts a frame (`rowOffset` 0), so that a frame assembled
   * from blocks (`assemble: frame`) is decided whole by one model.
   */
  readonly boundary?: SwitchBoundary;
  /** The source's rows, handed to the lane frames go to now. */
  readonly rows?: Observable<RowsReady>;
  /** A lane took over: frames from now on go to it (`frames`: how many went to the one before). */
  readonly onSwitch?: (from: L, to: L, frames: number) => void;
  /** A lane will never get a frame again and has decided every frame it got (or never ran). */
  readonly onRetired?: (lane: L) => void;
}

interface OpenLane<L extends object> {
  readonly lane: L;
  readonly input: Subject<CubeFrame>;
  readonly held: DecidedFrame[];
  subscription: Subscription | undefined;
  completed: boolean;
  depth: number;
}

/**
 * Lanes of models behind one operator. `switchTo` schedules the next lane; it takes over at the
 * next boundary (see {@link SwitchingPipelineOptions.boundary}), or at once while no frame is
 * flowing. One subscription at a time.
 *
 * @example
 * ```ts
 * import type { LoadedBundle } from 'cubestream';
 * import { deepSvddPipeline } from 'cubestream/operators';
 * declare const next: LoadedBundle;
 * const lanes = new SwitchingPipeline<LoadedBundle>(bundle, {
 *   build: (model, { rows }) => deepSvddPipeline(model, { earlyRows: rows }),
 *   rows: camera.rows,
 *   onSwitch: (from, to) => logger.info({ from: from.manifest.version, to: to.manifest.version }, 'model switched'),
 * });
 * camera.frames.pipe(lanes.operator).subscribe((decided) => sink.publish(decided.decision));
 * lanes.switchTo(next); // frames from here on are decided by the next model, in order
 * ```
 */
export class SwitchingPipeline<L extends object> {
  /** The operator: frames in, decisions out, in the order the frames came. */
  readonly operator: OperatorFunction<CubeFrame, DecidedFrame>;
  #current: L;
  #pending: L | undefined;
  /** Open lanes, oldest first; the last one gets the frames. Empty while not subscribed. */
  #lanes: OpenLane<L>[] = [];
  #subscriber:
    | { next: (decided: DecidedFrame) => void; error: (e: unknown) => void; complete: () => void }
    | undefined;
  #sourceDone = false;
  /** Frames routed to the current lane. */
  #routed = 0;
  /** Whether the last frame routed ended its frame (a `frame` boundary follows it). */
  #atFrameEnd = true;
  #ended = false;
  readonly #retired = new WeakSet<L>();
  readonly #options: SwitchingPipelineOptions<L>;

  constructor(first: L, options: SwitchingPipelineOptions<L>) {
    this.#current = first;
    this.#options = options;
    this.operator = (frames) => this.#run(frames);
  }

  /** The lane frames go to now. */
  get current(): L {
    return this.#current;
  }

  /** The lane waiting for a boundary, if any. */
  get pending(): L | undefined {
    return this.#pending;
  }

  /** Whether the stream has ended (no switch will happen any more). */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Schedules `next` to take over at the next boundary (at once with `boundary: block`, or while
   * nothing is subscribed yet). A lane still pending is replaced, and retired.
   *
   * @returns false (and `next` is not used) once the stream has ended
   */
  switchTo(next: L): boolean {
    if (this.#ended) return false;
    const replaced = this.#pending;
    this.#pending = next;
    if (replaced !== undefined) this.#retire(replaced);
    if (this.#lanes.length === 0 || this.#routed === 0 || this.#atBoundary()) this.#switchNow();
    return true;
  }

  /** Retires every lane that is not subscribed: the pending one, and all of them when nothing runs. */
  retireAll(): void {
    this.#ended = true;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) this.#retire(pending);
    if (this.#lanes.length === 0) this.#retire(this.#current);
  }

  /** Calls `onRetired` once per lane. */
  #retire(lane: L): void {
    if (this.#retired.has(lane)) return;
    this.#retired.add(lane);
    this.#options.onRetired?.(lane);
  }

  #atBoundary(): boolean {
    return (this.#options.boundary ?? 'block') === 'block' || this.#atFrameEnd;
  }

  #switchNow(): void {
    const next = this.#pending;
    if (next === undefined) return;
    this.#pending = undefined;
    const from = this.#current;
    const frames = this.#routed;
    this.#current = next;
    this.#routed = 0;
    if (this.#lanes.length === 0) {
      // Not subscribed: the old lane never ran.
      this.#options.onSwitch?.(from, next, frames);
      this.#retire(from);
      return;
    }
    const old = this.#lanes.at(-1);
    this.#open(next);
    this.#options.onSwitch?.(from, next, frames);
    old?.input.complete();
  }

  #open(lane: L): void {
    const open: OpenLane<L> = {
      lane,
      input: new Subject<CubeFrame>(),
      held: [],
      subscription: undefined,
      completed: false,
      depth: 0,
    };
    this.#lanes.push(open);
    const rows = this.#options.rows?.pipe(filter(() => this.#lanes.at(-1) === open));
    const pipeline = this.#options.build(lane, {
      rows,
      queueDepth: (depth) => {
        open.depth = depth;
        return this.#lanes.reduce((sum, each) => sum + each.depth, 0);
      },
    });
    open.subscription = open.input.pipe(pipeline).subscribe({
      next: (decided) => {
        if (this.#lanes[0] === open) this.#subscriber?.next(decided);
        else open.held.push(decided);
      },
      error: (error: unknown) => this.#subscriber?.error(error),
      complete: () => {
        open.completed = true;
        this.#advance();
      },
    });
  }

  /** Retires the completed lanes at the head, lets the next one's held decisions out, completes at the end. */
  #advance(): void {
    for (;;) {
      const head = this.#lanes[0];
      if (head === undefined || !head.completed) return;
      this.#lanes.shift();
      head.depth = 0;
      this.#retire(head.lane);
      const next = this.#lanes[0];
      if (next === undefined) {
        if (this.#sourceDone) {
          this.#ended = true;
          this.#subscriber?.complete();
        }
        return;
      }
      for (const decided of next.held.splice(0)) this.#subscriber?.next(decided);
    }
  }

  #run(frames: Observable<CubeFrame>): Observable<DecidedFrame> {
    return new Observable<DecidedFrame>((subscriber) => {
      if (this.#subscriber !== undefined || this.#ended) {
        subscriber.error(new Error('SwitchingPipeline: one subscription only'));
        return;
      }
      this.#subscriber = subscriber;
      this.#open(this.#current);
      this.#switchNow(); // a lane scheduled before the first frame takes over at once
      const input = frames.subscribe({
        next: (frame) => {
          if (this.#pending !== undefined && frame.rowOffset === 0) this.#switchNow();
          const lane = this.#lanes.at(-1);
          this.#routed += 1;
          this.#atFrameEnd = frame.rowOffset + frame.height >= frame.totalRows;
          lane?.input.next(frame);
          if (this.#pending !== undefined && this.#atBoundary()) this.#switchNow();
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          this.#sourceDone = true;
          this.#lanes.at(-1)?.input.complete();
        },
      });
      return () => {
        input.unsubscribe();
        this.#ended = true;
        this.#subscriber = undefined;
        for (const open of this.#lanes.splice(0)) {
          open.subscription?.unsubscribe();
          this.#retire(open.lane);
        }
        const pending = this.#pending;
        this.#pending = undefined;
        if (pending !== undefined) this.#retire(pending);
      };
    });
  }
}
