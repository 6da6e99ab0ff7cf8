import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  componentLogger,
  createLogger,
  InvalidLogLevelError,
  LOG_LEVEL_ENV,
} from '../../src/telemetry/logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const lines = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines };
}

describe('createLogger / componentLogger', () => {
  it('writes JSON lines with the component and bound fields of the child', () => {
    const out = capture();
    const root = createLogger({ destination: out.stream, level: 'info', name: 'svc' });
    const child = componentLogger(root, 'pipeline', { camera: 'cam1' });
    child.info({ frameId: 7, anomalous: true }, 'decision');
    child.debug({ frameId: 8 }, 'hidden at info');
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      name: 'svc',
      component: 'pipeline',
      camera: 'cam1',
      frameId: 7,
      anomalous: true,
      msg: 'decision',
      level: 30,
    });
  });

  it('takes the level from CUBESTREAM_LOG_LEVEL when no option is given', () => {
    const out = capture();
    const log = createLogger({ destination: out.stream, env: { [LOG_LEVEL_ENV]: 'DEBUG' } });
    expect(log.level).toBe('debug');
    log.debug({ x: 1 }, 'visible');
    expect(out.lines()).toHaveLength(1);
    expect(createLogger({ destination: out.stream, env: {} }).level).toBe('info');
    expect(
      createLogger({ destination: out.stream, level: 'warn', env: { [LOG_LEVEL_ENV]: 'trace' } }).level,
    ).toBe('warn');
  });

  it('rejects an invalid level and names where it came from', () => {
    expect(() => createLogger({ env: { [LOG_LEVEL_ENV]: 'loud' } })).toThrow(InvalidLogLevelError);
    expect(() => createLogger({ env: { [LOG_LEVEL_ENV]: 'loud' } })).toThrow(/CUBESTREAM_LOG_LEVEL.*"loud"/);
    expect(() => createLogger({ level: 'verbose' })).toThrow(/^level: invalid log level "verbose"/);
  });

  it('writes nothing when silent', () => {
    const out = capture();
    createLogger({ destination: out.stream, level: 'silent' }).error({ a: 1 }, 'nope');
    expect(out.lines()).toHaveLength(0);
  });
});
