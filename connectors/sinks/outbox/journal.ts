/**
 * The write-ahead journal of one sink's durable outbox: every decision the sink accepts is
 * appended (one synchronous `write(2)`, so a process killed right after still has it on disk)
 * before the broker client sees it, and resolved once the broker acknowledged it or the sink gave
 * up on it (counted). What is unresolved at the next {@link OutboxJournal.open} is replayed.
 *
 * Layout: `<dir>/<12-digit index>.jsonl` segments of the JSON lines of `records.ts`. The current
 * segment is rotated once it passes `segmentBytes`; each open starts a new one (an old segment
 * may end in a torn line). The oldest segment is deleted once every decision in it is resolved;
 * when it holds only a few pending decisions that keep newer segments alive, those are copied
 * forward (same `seq`) and it is deleted. Past `maxBytes` the oldest segment is dropped, its
 * pending decisions counted in `publish_errors_total{sink}` and logged.
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Decision } from '../../../src/core/decision.js';
import { OptionError } from '../../../src/core/options.js';
import { componentLogger, createLogger, type Logger } from '../../../src/telemetry/logger.js';
import type { CubestreamMetrics } from '../../../src/telemetry/metrics.js';
import { sinkComponent } from '../sink-options.js';
import { decisionMsgId } from '../topics.js';
import { OutboxError } from './outbox-error.js';
import { decisionLine, type ResolveReason, resolvedLine } from './records.js';
import { listSegments, readSegment, segmentName } from './segments.js';

/** Default size past which the current segment is rotated: 4 MiB. */
export const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;
/** Default bound of a journal's segments on disk: 256 MiB. */
export const DEFAULT_OUTBOX_MAX_BYTES = 256 * 1024 * 1024;

/** Options of {@link OutboxJournal}. */
export interface OutboxJournalOptions {
  /** The sink's journal directory (created), e.g. `<sinks.outbox.dir>/mqtt`. One process per directory. */
  readonly dir: string;
  /** Sink name: metric label and log field. */
  readonly sink: string;
  /** Rotate the current segment once it holds this many bytes; default {@link DEFAULT_SEGMENT_BYTES}. */
  readonly segmentBytes?: number;
  /** Most bytes of segments on disk (at least 2 segments); default {@link DEFAULT_OUTBOX_MAX_BYTES}. */
  readonly maxBytes?: number;
  /** `fdatasync` after each write: survives a power cut too, at a cost per decision; default false. */
  readonly fsync?: boolean;
  /** Parent logger (the journal logs as `component: 'outbox'`). */
  readonly logger?: Logger;
  /** `outbox_pending{sink}` and, for decisions dropped past `maxBytes`, `publish_errors_total{sink}`. */
  readonly metrics?: Pick<CubestreamMetrics, 'publishErrors' | 'outboxPending'>;
}

/** What {@link OutboxJournal.open} found. */
export interface OutboxOpenReport {
  /** Unresolved decisions, to replay. */
  readonly pending: number;
  /** Segment files read. */
  readonly segments: number;
  /** Segments whose last line was cut short (skipped). */
  readonly torn: number;
  /** Other lines that did not parse (skipped). */
  readonly corrupt: number;
}

interface Segment {
  readonly index: number;
  readonly path: string;
  bytes: number;
  /** Unresolved decisions whose (latest) record is in this segment. */
  readonly live: Set<number>;
  /** Bytes of those records. */
  liveBytes: number;
}

interface Entry {
  readonly seq: number;
  readonly decision: Decision;
  readonly msgId: string;
  home: Segment;
  bytes: number;
}

/**
 * A sink's durable journal.
 *
 * @example
 * ```ts
 * const journal = new OutboxJournal({ dir: '/var/lib/cubestream/outbox/mqtt', sink: 'mqtt' });
 * journal.open();
 * for (const decision of journal.pendingDecisions()) await sink.publish(decision); // replay
 * const seq = journal.append(decision);      // before handing it to the broker client
 * journal.resolveDecision(decision, 'acked'); // on the broker's acknowledgement
 * journal.close();
 * ```
 */
export class OutboxJournal {
  /** The journal directory. */
  readonly dir: string;
  private readonly sink: string;
  private readonly segmentBytes: number;
  private readonly maxBytes: number;
  private readonly fsync: boolean;
  private readonly log: Logger;
  private readonly metrics: OutboxJournalOptions['metrics'];
  private segments: Segment[] = [];
  private readonly entries = new Map<number, Entry>();
  private readonly seqsByMsgId = new Map<string, number[]>();
  private fd: number | undefined;
  private mustRotate = false;
  private nextSeq = 1;
  private totalBytes = 0;

  /** @param options - see {@link OutboxJournalOptions}; validated here, nothing is opened */
  constructor(options: OutboxJournalOptions) {
    this.dir = options.dir;
    this.sink = options.sink;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.maxBytes = options.maxBytes ?? DEFAULT_OUTBOX_MAX_BYTES;
    if (!(Number.isSafeInteger(this.segmentBytes) && this.segmentBytes >= 1)) {
      throw new OptionError(
        sinkComponent(this.sink),
        'outbox.segmentBytes',
        this.segmentBytes,
        'an integer >= 1',
      );
    }
    if (!(Number.isSafeInteger(this.maxBytes) && this.maxBytes >= 2 * this.segmentBytes)) {
      throw new OptionError(
        sinkComponent(this.sink),
        'outbox.maxBytes',
        this.maxBytes,
        `an integer >= 2 × segmentBytes (${2 * this.segmentBytes})`,
      );
    }
    this.fsync = options.fsync ?? false;
    this.metrics = options.metrics;
    this.log = componentLogger(options.logger ?? createLogger(), 'outbox', {
      sink: this.sink,
      dir: this.dir,
    });
  }

  /** True between {@link open} and {@link close}. */
  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  /** Decisions appended (or read at open) and not resolved yet. */
  get pending(): number {
    return this.entries.size;
  }

  /** Bytes of the segment files. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Segment files on disk, the current one included. */
  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Creates the directory, reads every segment (skipping, with a warning, torn and corrupt lines),
   * starts a new segment and deletes those fully resolved.
   *
   * @throws {@link OutboxError} when the directory cannot be created, read or written
   */
  open(): OutboxOpenReport {
    if (this.fd !== undefined) throw new OutboxError(this.sink, this.dir, 'already open');
    this.segments = [];
    this.entries.clear();
    this.seqsByMsgId.clear();
    this.totalBytes = 0;
    this.nextSeq = 1;
    let torn = 0;
    let corrupt = 0;
    let read = 0;
    try {
      mkdirSync(this.dir, { recursive: true });
      for (const file of listSegments(this.dir)) {
        const contents = readSegment(file.path);
        read += 1;
        const segment: Segment = { ...file, bytes: contents.bytes, live: new Set(), liveBytes: 0 };
        this.segments.push(segment);
        this.totalBytes += contents.bytes;
        if (contents.torn) {
          torn += 1;
          this.log.warn(
            { segment: file.path },
            'outbox: torn last line skipped (the process died mid-write)',
          );
        }
        if (contents.corrupt > 0) {
          corrupt += contents.corrupt;
          this.log.warn({ segment: file.path, lines: contents.corrupt }, 'outbox: corrupt lines skipped');
        }
        for (const { record, bytes } of contents.records) {
          this.nextSeq = Math.max(this.nextSeq, record.seq + 1);
          if (record.kind === 'decision') this.place(record.seq, record.decision, segment, bytes);
          else this.forget(record.seq);
        }
      }
      // Replay in seq order (first appearances already are; copies keep their seq).
      const sorted = [...this.entries.values()].sort((a, b) => a.seq - b.seq);
      this.entries.clear();
      for (const entry of sorted) this.entries.set(entry.seq, entry);
      this.startSegment();
    } catch (error) {
      if (error instanceof OutboxError) throw error;
      throw new OutboxError(this.sink, this.dir, String(error), { cause: error });
    }
    this.compact();
    this.enforceLimit();
    this.updateGauge();
    return { pending: this.entries.size, segments: read, torn, corrupt };
  }

  /** The unresolved decisions, oldest first (the order they were accepted in). */
  pendingDecisions(): Decision[] {
    return [...this.entries.values()].map((entry) => entry.decision);
  }

  /**
   * Appends a decision (synchronously: on disk, or in the OS's cache unless `fsync`) and returns
   * its sequence number. May rotate, compact and enforce `maxBytes`.
   *
   * @throws {@link OutboxError} when the journal is closed or the write fails
   */
  append(decision: Decision): number {
    this.requireOpen();
    const seq = this.nextSeq;
    const line = decisionLine(seq, decision);
    const segment = this.write(line);
    this.nextSeq += 1;
    this.place(seq, decision, segment, Buffer.byteLength(line));
    this.enforceLimit();
    this.updateGauge();
    return seq;
  }

  /**
   * Marks decision `seq` resolved (no replay); returns false when it is not pending. A failed
   * write of the record is logged: at worst the decision is sent again after a restart.
   */
  resolve(seq: number, reason: ResolveReason): boolean {
    if (this.fd === undefined || !this.entries.has(seq)) return false;
    try {
      this.write(resolvedLine(seq, reason));
    } catch (error) {
      this.log.error({ err: error, seq }, 'outbox: could not record a resolved decision');
    }
    this.forget(seq);
    this.compact();
    this.updateGauge();
    return true;
  }

  /** Resolves the oldest pending entry of this decision (by {@link decisionMsgId}); false when none. */
  resolveDecision(decision: Decision, reason: ResolveReason): boolean {
    const seq = this.seqsByMsgId.get(decisionMsgId(decision))?.[0];
    return seq !== undefined && this.resolve(seq, reason);
  }

  /** Closes the current segment; returns how many decisions stay pending (replayed at the next open). */
  close(): number {
    const fd = this.fd;
    if (fd !== undefined) {
      this.fd = undefined;
      closeSync(fd);
    }
    return this.entries.size;
  }

  private requireOpen(): number {
    if (this.fd === undefined) throw new OutboxError(this.sink, this.dir, 'not open');
    return this.fd;
  }

  private get current(): Segment {
    const segment = this.segments.at(-1);
    if (segment === undefined) throw new OutboxError(this.sink, this.dir, 'no segment');
    return segment;
  }

  /** Appends `line` to the current segment, rotating first when it is full; returns the segment. */
  private write(line: string): Segment {
    if (this.mustRotate || this.current.bytes >= this.segmentBytes) this.rotate();
    return this.writeCurrent(line);
  }

  private writeCurrent(line: string): Segment {
    const fd = this.requireOpen();
    const segment = this.current;
    const buffer = Buffer.from(line);
    try {
      let offset = 0;
      while (offset < buffer.length) offset += writeSync(fd, buffer, offset);
      if (this.fsync) fdatasyncSync(fd);
    } catch (error) {
      // The segment may now end in a partial line: later records go to a new segment.
      this.mustRotate = true;
      throw new OutboxError(this.sink, this.dir, `write failed: ${String(error)}`, { cause: error });
    }
    segment.bytes += buffer.length;
    this.totalBytes += buffer.length;
    return segment;
  }

  private startSegment(): void {
    const index = (this.segments.at(-1)?.index ?? 0) + 1;
    const file = path.join(this.dir, segmentName(index));
    const fd = openSync(file, 'a');
    const previous = this.fd;
    this.fd = fd;
    if (previous !== undefined) closeSync(previous);
    this.segments.push({ index, path: file, bytes: 0, live: new Set(), liveBytes: 0 });
    this.mustRotate = false;
  }

  private rotate(): void {
    try {
      this.startSegment();
    } catch (error) {
      throw new OutboxError(this.sink, this.dir, `cannot start a segment: ${String(error)}`, {
        cause: error,
      });
    }
    this.compact();
  }

  /** Records that `seq`'s latest decision record is in `segment` (a new entry, or a copy). */
  private place(seq: number, decision: Decision, segment: Segment, bytes: number): void {
    let entry = this.entries.get(seq);
    if (entry === undefined) {
      const msgId = decisionMsgId(decision);
      entry = { seq, decision, msgId, home: segment, bytes };
      this.entries.set(seq, entry);
      const seqs = this.seqsByMsgId.get(msgId);
      if (seqs === undefined) this.seqsByMsgId.set(msgId, [seq]);
      else seqs.push(seq);
    } else {
      entry.home.live.delete(seq);
      entry.home.liveBytes -= entry.bytes;
      entry.home = segment;
      entry.bytes = bytes;
    }
    segment.live.add(seq);
    segment.liveBytes += bytes;
  }

  private forget(seq: number): void {
    const entry = this.entries.get(seq);
    if (entry === undefined) return;
    this.entries.delete(seq);
    entry.home.live.delete(seq);
    entry.home.liveBytes -= entry.bytes;
    const seqs = this.seqsByMsgId.get(entry.msgId);
    const rest = seqs?.filter((s) => s !== seq) ?? [];
    if (rest.length === 0) this.seqsByMsgId.delete(entry.msgId);
    else this.seqsByMsgId.set(entry.msgId, rest);
  }

  /**
   * Deletes the oldest segments while they hold no pending decision (only from the oldest: a
   * segment's resolved records may be about decisions of older segments). An oldest segment with
   * a few pending decisions left has them copied forward into the current one first.
   */
  private compact(): void {
    while (this.segments.length > 1) {
      const oldest = this.segments[0];
      if (oldest === undefined) return;
      if (oldest.live.size > 0 && !this.carryForward(oldest)) return;
      this.deleteOldest();
    }
  }

  /** Copies `oldest`'s pending records into the current segment when they are few; true when done. */
  private carryForward(oldest: Segment): boolean {
    const current = this.current;
    if (this.mustRotate) return false; // the current segment may end in a partial line
    if (oldest.liveBytes > this.segmentBytes / 4) return false;
    if (current.bytes + oldest.liveBytes > this.segmentBytes / 2) return false;
    try {
      for (const seq of [...oldest.live].sort((a, b) => a - b)) {
        const entry = this.entries.get(seq);
        if (entry === undefined) continue;
        const line = decisionLine(seq, entry.decision);
        this.place(seq, entry.decision, this.writeCurrent(line), Buffer.byteLength(line));
      }
      return true;
    } catch (error) {
      this.log.error({ err: error }, 'outbox: could not copy pending decisions forward');
      return false;
    }
  }

  private deleteOldest(): void {
    const oldest = this.segments.shift();
    if (oldest === undefined) return;
    this.totalBytes -= oldest.bytes;
    try {
      unlinkSync(oldest.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log.error({ err: error, segment: oldest.path }, 'outbox: could not delete a resolved segment');
    }
  }

  /** Past `maxBytes`, drops the oldest segments with their pending decisions: counted and logged. */
  private enforceLimit(): void {
    let dropped = 0;
    while (this.totalBytes > this.maxBytes && this.segments.length > 1) {
      const oldest = this.segments[0];
      if (oldest === undefined) break;
      for (const seq of [...oldest.live]) {
        this.forget(seq);
        dropped += 1;
      }
      this.deleteOldest();
    }
    if (dropped > 0) {
      this.metrics?.publishErrors.inc({ sink: this.sink }, dropped);
      this.log.warn(
        { dropped, maxBytes: this.maxBytes },
        'outbox full: the oldest pending decisions are no longer kept for replay',
      );
    }
  }

  private updateGauge(): void {
    this.metrics?.outboxPending.set({ sink: this.sink }, this.entries.size);
  }
}
