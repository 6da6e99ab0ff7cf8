/**
 * Appends JSON lines to a file: writes are serialised (one `write` per line, file opened with
 * O_APPEND), `flush()` waits for them and syncs the data to disk, `close()` flushes and closes.
 */
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { SinkClosedError } from './errors.js';

/** An append-only JSONL file. */
export class JsonlAppender {
  private handle: FileHandle | undefined;
  private tail: Promise<void> = Promise.resolve();
  private writes = 0;

  /**
   * @param file - path of the JSONL file (parent directories are created)
   * @param sink - sink name for errors
   */
  constructor(
    readonly file: string,
    private readonly sink: string,
  ) {}

  /** True between {@link open} and {@link close}. */
  get isOpen(): boolean {
    return this.handle !== undefined;
  }

  /** Lines handed to `append` whose write has not completed. */
  get pending(): number {
    return this.writes;
  }

  /** Creates the parent directory and opens the file for appending. */
  async open(): Promise<void> {
    if (this.handle !== undefined) return;
    await mkdir(path.dirname(this.file), { recursive: true });
    this.handle = await open(this.file, 'a');
  }

  /** Appends `line` plus a newline; resolves when written (to the OS, not yet synced). */
  append(line: string): Promise<void> {
    const handle = this.handle;
    if (handle === undefined) return Promise.reject(new SinkClosedError(this.sink));
    this.writes += 1;
    const written = this.tail
      .then(() => handle.write(`${line}\n`))
      .then(
        () => {
          this.writes -= 1;
        },
        (error: unknown) => {
          this.writes -= 1;
          throw error;
        },
      );
    this.tail = written.catch(() => undefined);
    return written;
  }

  /** Waits for every pending write and syncs the file's data to disk. */
  async flush(): Promise<void> {
    await this.tail;
    await this.handle?.datasync();
  }

  /** Flushes and closes the file; later appends reject with `SinkClosedError`. */
  async close(): Promise<void> {
    const handle = this.handle;
    if (handle === undefined) return;
    await this.flush();
    this.handle = undefined;
    await handle.close();
  }
}
