/**
 * The segment files of an outbox journal: `<dir>/<12-digit index>.jsonl`, written in index order,
 * one open for appending at a time. Reading tolerates a torn last line (the process died in the
 * middle of a write) and corrupt lines: they are skipped and counted, never fatal.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type JournalRecord, parseRecord } from './records.js';

const SEGMENT_NAME = /^(\d{12})\.jsonl$/;

/** File name of segment `index`, e.g. `000000000007.jsonl`. */
export function segmentName(index: number): string {
  return `${String(index).padStart(12, '0')}.jsonl`;
}

/** A segment file found on disk. */
export interface SegmentFile {
  readonly index: number;
  readonly path: string;
}

/** The segment files of `dir`, oldest first (other files are ignored). */
export function listSegments(dir: string): SegmentFile[] {
  const found: SegmentFile[] = [];
  for (const name of readdirSync(dir)) {
    const match = SEGMENT_NAME.exec(name);
    if (match?.[1] !== undefined) found.push({ index: Number(match[1]), path: path.join(dir, name) });
  }
  return found.sort((a, b) => a.index - b.index);
}

/** What a segment holds. */
export interface SegmentContents {
  /** Valid records, in file order, each with the bytes of its line (newline included). */
  readonly records: readonly { readonly record: JournalRecord; readonly bytes: number }[];
  /** Size of the file. */
  readonly bytes: number;
  /** True when the last line had no newline and did not parse: a write cut short. */
  readonly torn: boolean;
  /** Complete lines that did not parse. */
  readonly corrupt: number;
}

/** Reads and parses a segment file. */
export function readSegment(file: string): SegmentContents {
  const buffer = readFileSync(file);
  const text = buffer.toString('utf8');
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  const records: { record: JournalRecord; bytes: number }[] = [];
  let corrupt = 0;
  for (const line of lines) {
    if (line === '') continue;
    const record = parseRecord(line);
    if (record === undefined) corrupt += 1;
    else records.push({ record, bytes: Buffer.byteLength(line) + 1 });
  }
  let torn = false;
  if (last !== '') {
    // A record is written with its newline in one write(2); without the newline it may still be
    // whole (cut right before it), else the write was cut short.
    const record = parseRecord(last);
    if (record === undefined) torn = true;
    else records.push({ record, bytes: Buffer.byteLength(last) });
  }
  return { records, bytes: buffer.length, torn, corrupt };
}
