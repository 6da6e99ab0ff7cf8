/**
 * Writes decisions as JSON lines (docs/wire-format.md §2 encoding, one decision per line) to a file, for
 * offline runs and audits. The file is appended to, never truncated; `close()` syncs it to disk.
 */
import { type Decision, encodeDecision } from '../../src/core/decision.js';
import { asError } from '../../src/core/errors.js';
import { SinkClosedError } from './errors.js';
import { JsonlAppender } from './jsonl-appender.js';
import { OutgoingMessage } from './outgoing-message.js';
import { waitUntilIdle } from './retry.js';
import type { DecisionSink, PublishOutcome, SinkHooks } from './sink.js';
import { SinkReporter } from './sink-reporter.js';

/** Options of {@link FileDecisionSink}. */
export interface FileSinkOptions
  extends Pick<SinkHooks, 'metrics' | 'logger' | 'onDrop' | 'onError' | 'onDelivered'> {
  /** JSONL file to append to (parent directories are created). */
  path: string;
  /** Sink name (metric label); default `file`. */
  name?: string;
}

/**
 * The JSONL decision sink.
 *
 * @example
 * ```ts
 * const sink = new FileDecisionSink({ path: 'out/decisions.jsonl' });
 * await sink.connect();
 * await sink.publish(decision); // 'acked' once written
 * await sink.close();           // synced to disk
 * ```
 */
export class FileDecisionSink implements DecisionSink {
  /** Metric label and log name. */
  readonly name: string;
  private readonly file: JsonlAppender;
  private readonly reporter: SinkReporter;
  private closed = false;

  /** @param options - see {@link FileSinkOptions} */
  constructor(options: FileSinkOptions) {
    this.name = options.name ?? 'file';
    this.file = new JsonlAppender(options.path, this.name);
    this.reporter = new SinkReporter(this.name, options, { path: options.path });
  }

  /** True while the file is open. */
  get connected(): boolean {
    return this.file.isOpen;
  }

  /** Lines not yet written. */
  get pending(): number {
    return this.file.pending;
  }

  /** Opens (creates) the file for appending. */
  async connect(): Promise<void> {
    if (this.closed) throw new SinkClosedError(this.name);
    await this.file.open();
    this.reporter.connected(true);
  }

  /** Appends the decision; resolves `acked` once written, rejects (counted) on a write error. */
  async publish(decision: Decision): Promise<PublishOutcome> {
    if (this.closed) throw new SinkClosedError(this.name);
    const message = new OutgoingMessage(this.file.file, encodeDecision(decision), decision);
    try {
      await this.file.append(message.payload);
      this.reporter.delivered(message);
      return 'acked';
    } catch (error) {
      const failure = asError(error);
      this.reporter.dropped(message, 'rejected', failure);
      throw failure;
    }
  }

  /** Waits for pending writes (then syncs to disk). */
  async flush(timeoutMs: number): Promise<void> {
    await waitUntilIdle(this.name, () => this.pending, timeoutMs);
    await this.file.flush();
  }

  /** Flushes, syncs and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.close();
    this.reporter.connected(false);
  }
}
