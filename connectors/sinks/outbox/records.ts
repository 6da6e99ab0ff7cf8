/**
 * The lines of an outbox journal (JSON lines, one record per line):
 *
 * - a decision the sink accepted: `{"seq":12,"decision":{…docs/wire-format.md §2 decision…}}`; `seq` grows by
 *   one per decision over the journal's life and orders the replay;
 * - its resolution: `{"resolved":12,"reason":"acked"}`: acknowledged by the broker, or given up on
 *   and counted (`overflow`, `rejected`, `outbox-full`). A decision without one is replayed.
 *
 * Compaction may write a decision record again, with the same `seq`, into a newer segment; a
 * reader keeps the first copy's place in the order.
 */

import { type Decision, encodeDecision } from '../../../src/core/decision.js';
import { decisionSchema } from '../../codec/decision-json.js';

/** Why a journaled decision needs no replay. */
export type ResolveReason = 'acked' | 'overflow' | 'rejected' | 'outbox-full';

const REASONS: readonly ResolveReason[] = ['acked', 'overflow', 'rejected', 'outbox-full'];

/** A parsed journal line. */
export type JournalRecord =
  | { readonly kind: 'decision'; readonly seq: number; readonly decision: Decision }
  | { readonly kind: 'resolved'; readonly seq: number; readonly reason: ResolveReason };

/** The line (with its newline) recording that decision `seq` was accepted. */
export function decisionLine(seq: number, decision: Decision): string {
  return `{"seq":${seq},"decision":${encodeDecision(decision)}}\n`;
}

/** The line (with its newline) recording that decision `seq` needs no replay. */
export function resolvedLine(seq: number, reason: ResolveReason): string {
  return `{"resolved":${seq},"reason":"${reason}"}\n`;
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

/**
 * Parses one journal line (without its newline); `undefined` when it is not a valid record (a
 * torn write, a corrupt line).
 */
export function parseRecord(line: string): JournalRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (isSeq(record.seq)) {
    const parsed = decisionSchema.safeParse(record.decision);
    return parsed.success
      ? { kind: 'decision', seq: record.seq, decision: parsed.data as Decision }
      : undefined;
  }
  const reason = record.reason;
  if (isSeq(record.resolved) && REASONS.includes(reason as ResolveReason)) {
    return { kind: 'resolved', seq: record.resolved, reason: reason as ResolveReason };
  }
  return undefined;
}
