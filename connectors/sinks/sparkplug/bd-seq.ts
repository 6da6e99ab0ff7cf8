/**
 * The birth/death sequence number `bdSeq` (SP5 l.178-182, SP6 l.1073-1081): +1 on every new MQTT
 * CONNECT, wrapping 255 -> 0; the NDEATH will of a CONNECT and every NBIRTH of that session carry
 * it. With a file, it persists across restarts (the file holds the bdSeq of the last CONNECT,
 * written before that CONNECT goes out), so that a restarted edge node does not reuse the bdSeq
 * whose late NDEATH the broker may still publish.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { asError } from '../../../src/core/errors.js';

/** bdSeq values are 0-255. */
const MODULO = 256;

/** The bdSeq counter of one edge node. */
export class BdSeq {
  private value = 0;

  /**
   * @param file - where the value persists; undefined = start at 0 on every start
   * @param onError - reports a file that cannot be written (the counter goes on in memory)
   */
  constructor(
    private readonly file: string | undefined,
    private readonly onError: (error: Error) => void,
  ) {}

  /** The bdSeq of the current (or next) CONNECT. */
  get current(): number {
    return this.value;
  }

  /** The bdSeq of the first CONNECT of this process: the stored one + 1, or 0; persisted. */
  first(): number {
    const stored = this.read();
    this.value = stored === undefined ? 0 : (stored + 1) % MODULO;
    this.write();
    return this.value;
  }

  /** The bdSeq of a new CONNECT (a reconnect): +1 mod 256; persisted. */
  next(): number {
    this.value = (this.value + 1) % MODULO;
    this.write();
    return this.value;
  }

  private read(): number | undefined {
    if (this.file === undefined) return undefined;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return undefined; // first start
    }
    const value = Number(text.trim());
    if (Number.isInteger(value) && value >= 0 && value < MODULO) return value;
    this.onError(
      new Error(`bdSeq file ${this.file} holds ${JSON.stringify(text.trim())}, not 0-255: starting at 0`),
    );
    return undefined;
  }

  private write(): void {
    if (this.file === undefined) return;
    const tmp = `${this.file}.tmp`;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileSync(tmp, `${this.value}\n`);
      renameSync(tmp, this.file);
    } catch (error) {
      this.onError(
        new Error(`cannot write bdSeq file ${this.file}: ${asError(error).message}`, { cause: error }),
      );
    }
  }
}
