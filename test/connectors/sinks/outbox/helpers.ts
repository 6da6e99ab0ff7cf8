/** Shared bits of the outbox tests: temp dirs, a logger whose lines are kept, decision keys. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Decision } from '../../../../src/core/decision.js';
import { createLogger, type Logger } from '../../../../src/telemetry/logger.js';

/** A logger at `debug` whose JSON lines are parsed and kept. */
export function capturedLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

/** A fresh temp dir and its removal. */
export async function tempDir(): Promise<{ dir: string; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cubestream-outbox-'));
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** `cameraId/frameId`, for readable expectations. */
export function shortKey(decision: Pick<Decision, 'cameraId' | 'frameId'>): string {
  return `${decision.cameraId}/${decision.frameId}`;
}
