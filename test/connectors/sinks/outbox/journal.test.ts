import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxJournal, type OutboxJournalOptions } from '../../../../connectors/sinks/outbox/journal.js';
import { OutboxError } from '../../../../connectors/sinks/outbox/outbox-error.js';
import { parseRecord } from '../../../../connectors/sinks/outbox/records.js';
import { DecisionDeduper } from '../../../../connectors/sinks/outbox/subscriber-dedup.js';
import { decisionMsgId } from '../../../../connectors/sinks/topics.js';
import type { Decision } from '../../../../src/core/decision.js';
import { OptionError } from '../../../../src/core/options.js';
import { createMetrics } from '../../../../src/telemetry/metrics.js';
import { makeDecision, makeDecisions } from '../../../helpers/decision-fixture.js';
import { capturedLogger, shortKey, tempDir } from './helpers.js';

/** Segment files of a journal dir, oldest first. */
function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort();
}

describe('OutboxJournal', () => {
  let tmp: { dir: string; dispose: () => Promise<void> };
  let dir: string;
  beforeEach(async () => {
    tmp = await tempDir();
    dir = path.join(tmp.dir, 'mqtt');
  });
  afterEach(async () => {
    await tmp.dispose();
  });

  function journal(options: Partial<OutboxJournalOptions> = {}): OutboxJournal {
    return new OutboxJournal({ dir, sink: 'mqtt', logger: capturedLogger().logger, ...options });
  }

  it('writes each decision as a JSON line before returning, and replays the unresolved ones in order after a reopen', () => {
    const j = journal();
    expect(j.open()).toEqual({ pending: 0, segments: 0, torn: 0, corrupt: 0 });
    const decisions = makeDecisions(5);
    const seqs = decisions.map((d) => j.append(d));
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    // On disk right away (a synchronous write), without closing the journal.
    const [file] = segmentFiles(dir);
    const lines = readFileSync(path.join(dir, file ?? ''), 'utf8')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(5);
    expect(parseRecord(lines[0] ?? '')).toEqual({ kind: 'decision', seq: 1, decision: decisions[0] });

    expect(j.resolveDecision(decisions[1] as Decision, 'acked')).toBe(true);
    expect(j.resolve(4, 'overflow')).toBe(true);
    expect(j.resolve(4, 'acked')).toBe(false); // already resolved
    expect(j.resolveDecision(makeDecision({ frameId: 99 }), 'acked')).toBe(false); // never journaled
    expect(j.pending).toBe(3);
    // Not closed: as after a kill -9.
    const again = journal();
    expect(again.open()).toMatchObject({ pending: 3, torn: 0, corrupt: 0 });
    expect(again.pendingDecisions().map(shortKey)).toEqual(['cam1/1', 'cam1/3', 'cam1/5']);
    // Sequence numbers go on where the journal left off.
    expect(again.append(makeDecision({ frameId: 6 }))).toBe(6);
    again.close();
    j.close();
  });

  it('keeps the order decisions were accepted in, across cameras, through rotations and reopens', () => {
    const j = journal({ segmentBytes: 1_500, maxBytes: 1_000_000 });
    j.open();
    const accepted: Decision[] = [];
    for (let i = 1; i <= 30; i++) {
      const d = makeDecision({ cameraId: i % 3 === 0 ? 'camB' : 'camA', frameId: i });
      accepted.push(d);
      j.append(d);
    }
    expect(j.segmentCount).toBeGreaterThan(3);
    j.close();
    const again = journal({ segmentBytes: 1_500, maxBytes: 1_000_000 });
    again.open();
    expect(again.pendingDecisions().map(shortKey)).toEqual(accepted.map(shortKey));
    again.close();
  });

  it('rotates past segmentBytes and deletes a segment once every decision in it is resolved', () => {
    const j = journal({ segmentBytes: 1_500, maxBytes: 1_000_000 });
    j.open();
    const decisions = makeDecisions(20);
    for (const d of decisions) j.append(d);
    const rotated = segmentFiles(dir).length;
    expect(rotated).toBeGreaterThan(3);
    const bytesBefore = j.bytes;
    for (const d of decisions) j.resolveDecision(d, 'acked');
    expect(j.pending).toBe(0);
    // Only the current segment is left (it holds the last resolved records).
    expect(segmentFiles(dir)).toHaveLength(1);
    expect(j.segmentCount).toBe(1);
    expect(j.bytes).toBeLessThan(bytesBefore);
    j.close();
    const again = journal({ segmentBytes: 1_500, maxBytes: 1_000_000 });
    expect(again.open().pending).toBe(0);
    again.close();
  });

  it('copies the few decisions still pending in the oldest segment forward, so that newer segments can go', () => {
    const j = journal({ segmentBytes: 2_000, maxBytes: 1_000_000 });
    j.open();
    const decisions = makeDecisions(40);
    for (const d of decisions) j.append(d);
    const first = segmentFiles(dir)[0];
    // Everything is acknowledged but frame 2 (stuck, e.g. for a camera whose broker is away).
    for (const d of decisions) if (d.frameId !== 2) j.resolveDecision(d, 'acked');
    // The stuck decision does not keep every segment alive: at most the current one and one more.
    for (let i = 41; i <= 50; i++) j.resolveDecision(makeDecision({ frameId: i }), 'acked');
    for (let i = 41; i <= 60; i++) {
      const d = makeDecision({ frameId: i });
      j.append(d);
      j.resolveDecision(d, 'acked');
    }
    expect(segmentFiles(dir)).not.toContain(first);
    expect(segmentFiles(dir).length).toBeLessThanOrEqual(2);
    expect(j.pendingDecisions().map(shortKey)).toEqual(['cam1/2']);
    j.close();
    const again = journal({ segmentBytes: 2_000, maxBytes: 1_000_000 });
    again.open();
    expect(again.pendingDecisions().map(shortKey)).toEqual(['cam1/2']);
    again.close();
  });

  it('matches a model of pending decisions under random appends, resolutions, kills and reopens', () => {
    type Op = { kind: 'append' } | { kind: 'resolve'; pick: number } | { kind: 'reopen' } | { kind: 'kill' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.constant<Op>({ kind: 'append' }) },
      { weight: 4, arbitrary: fc.nat(1_000).map<Op>((pick) => ({ kind: 'resolve', pick })) },
      { weight: 1, arbitrary: fc.constant<Op>({ kind: 'reopen' }) },
      { weight: 1, arbitrary: fc.constant<Op>({ kind: 'kill' }) },
    );
    let run = 0;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        run += 1;
        const options = {
          dir: path.join(tmp.dir, `model-${run}`),
          segmentBytes: 1_200,
          maxBytes: 10_000_000,
        };
        let j = journal(options);
        j.open();
        const model: Decision[] = [];
        let frame = 0;
        for (const o of ops) {
          if (o.kind === 'append') {
            const d = makeDecision({ frameId: ++frame, cameraId: frame % 2 === 0 ? 'a' : 'b' });
            j.append(d);
            model.push(d);
          } else if (o.kind === 'resolve' && model.length > 0) {
            const [d] = model.splice(o.pick % model.length, 1);
            expect(j.resolveDecision(d as Decision, 'acked')).toBe(true);
          } else if (o.kind === 'reopen' || o.kind === 'kill') {
            if (o.kind === 'reopen') j.close();
            else {
              // A kill leaves the fd open, as a dead process would, maybe in the middle of a write.
              const last = segmentFiles(options.dir).at(-1);
              if (last !== undefined)
                appendFileSync(path.join(options.dir, last), '{"seq":99999,"decision":{"sch');
            }
            j = journal(options);
            j.open();
          }
          expect(j.pendingDecisions().map(shortKey)).toEqual(model.map(shortKey));
        }
        j.close();
        const last = journal(options);
        last.open();
        expect(last.pendingDecisions().map(shortKey)).toEqual(model.map(shortKey));
        last.close();
      }),
      { numRuns: 60 },
    );
  });

  it('skips a torn last line (the process died mid-write) with a warning, and a corrupt line, and goes on', () => {
    const j = journal();
    j.open();
    const decisions = makeDecisions(3);
    for (const d of decisions) j.append(d);
    const file = path.join(dir, segmentFiles(dir)[0] ?? '');
    j.close();
    // A corrupt line in the middle, then a record cut short at the end.
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.splice(1, 0, 'not json at all');
    writeFileSync(file, lines.join('\n'));
    appendFileSync(file, '{"seq":4,"decision":{"schema":"cubestream.decision/1","cameraId":"ca');

    const { logger, lines: logs } = capturedLogger();
    const again = new OutboxJournal({ dir, sink: 'mqtt', logger });
    expect(again.open()).toMatchObject({ pending: 3, torn: 1, corrupt: 1 });
    expect(again.pendingDecisions()).toEqual(decisions);
    expect(logs.some((l) => l.level === 40 && String(l.msg).includes('torn last line'))).toBe(true);
    expect(logs.some((l) => l.level === 40 && String(l.msg).includes('corrupt'))).toBe(true);
    // New records go to a new segment, never after the torn line.
    const next = makeDecision({ frameId: 10 });
    again.append(next);
    again.close();
    const third = journal();
    // The torn segment's 3 pending decisions were copied forward at the last open, and it was deleted.
    expect(third.open()).toMatchObject({ pending: 4, torn: 0, corrupt: 0 });
    expect(third.pendingDecisions().map(shortKey)).toEqual(['cam1/1', 'cam1/2', 'cam1/3', 'cam1/10']);
    third.close();
  });

  it('past maxBytes drops the oldest pending decisions, counted in publish_errors_total and logged', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const { logger, lines } = capturedLogger();
    const j = new OutboxJournal({ dir, sink: 'nats', segmentBytes: 1_000, maxBytes: 3_000, logger, metrics });
    j.open();
    for (const d of makeDecisions(30)) j.append(d);
    expect(j.bytes).toBeLessThanOrEqual(3_000 + 1_000);
    const kept = j.pendingDecisions();
    const dropped = 30 - kept.length;
    expect(dropped).toBeGreaterThan(0);
    // The newest are kept, in order.
    expect(kept.map((d) => d.frameId)).toEqual(
      Array.from({ length: kept.length }, (_, i) => dropped + i + 1),
    );
    const text = await metrics.registry.metrics();
    expect(text).toContain(`cubestream_publish_errors_total{sink="nats"} ${dropped}`);
    expect(text).toContain(`cubestream_outbox_pending{sink="nats"} ${kept.length}`);
    const warned = lines.filter((l) => String(l.msg).startsWith('outbox full'));
    expect(warned.reduce((sum, l) => sum + Number(l.dropped), 0)).toBe(dropped);
    j.close();
  });

  it('refuses a maxBytes below two segments, and reports an unusable directory as OutboxError', () => {
    expect(() => journal({ segmentBytes: 1_000, maxBytes: 1_999 })).toThrow(OptionError);
    writeFileSync(path.join(tmp.dir, 'a-file'), 'x');
    const blocked = new OutboxJournal({ dir: path.join(tmp.dir, 'a-file', 'mqtt'), sink: 'mqtt' });
    expect(() => blocked.open()).toThrow(OutboxError);
    expect(() => journal().append(makeDecision())).toThrow(/not open/);
  });
});

describe('DecisionDeduper', () => {
  it('passes each decision identity once, forgetting the oldest past its capacity', () => {
    const seen = new DecisionDeduper(2);
    const [a, b, c] = makeDecisions(3);
    expect([a, b, a, b].map((d) => seen.firstTime(d as Decision))).toEqual([true, true, false, false]);
    // Same frame id after a restart, new capture time: a different decision.
    expect(seen.firstTime({ ...(a as Decision), capturedAt: (a as Decision).capturedAt + 1_000 })).toBe(true);
    expect(seen.firstTime(c as Decision)).toBe(true);
    expect(seen.size).toBe(2);
    expect(decisionMsgId(a as Decision)).toBe(`cam1:${(a as Decision).capturedAt}:1:0`);
  });
});
