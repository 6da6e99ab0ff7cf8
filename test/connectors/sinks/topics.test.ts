import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../connectors/shared/backoff.js';
import { deadLetterFromError, encodeDeadLetter } from '../../../connectors/sinks/dead-letter.js';
import { InvalidCameraIdError } from '../../../connectors/sinks/errors.js';
import { subjectCovers } from '../../../connectors/sinks/nats-stream.js';
import { encodeStatus } from '../../../connectors/sinks/status.js';
import {
  assertCameraId,
  assertMqttPrefix,
  assertNatsPrefix,
  decisionMsgId,
  mqttTopic,
  natsSubject,
} from '../../../connectors/sinks/topics.js';
import { CubestreamError } from '../../../src/core/errors.js';
import { OptionError } from '../../../src/core/options.js';

describe('topics and subjects', () => {
  it('builds the docs/wire-format.md §5 names', () => {
    expect(mqttTopic('cubestream', 'cam1', 'decisions')).toBe('cubestream/cam1/decisions');
    expect(mqttTopic('plant/a', 'cam-2', 'status')).toBe('plant/a/cam-2/status');
    expect(mqttTopic('cubestream', '_unknown', 'deadletter')).toBe('cubestream/_unknown/deadletter');
    expect(natsSubject('cubestream', 'decisions', 'cam1')).toBe('cubestream.decisions.cam1');
    expect(
      decisionMsgId({ cameraId: 'cam1', capturedAt: 1_764_921_600_000, frameId: 42, rowOffset: 540 }),
    ).toBe('cam1:1764921600000:42:540');
  });

  it('rejects camera ids that would break a topic or subject', () => {
    for (const bad of ['', 'a/b', 'a.b', 'a+', '#', 'a b', '>', '_x', 'x'.repeat(129)]) {
      expect(() => assertCameraId(bad), bad).toThrow(InvalidCameraIdError);
    }
    expect(() => mqttTopic('cubestream', 'a/b', 'decisions')).toThrow(/cameraId "a\/b"/);
    expect(assertCameraId('Line3_cam-01')).toBe('Line3_cam-01');
  });

  it('rejects wildcard prefixes', () => {
    expect(() => assertMqttPrefix('a/+/b')).toThrow(OptionError);
    expect(() => assertMqttPrefix('/a')).toThrow(/option prefix/);
    expect(() => assertNatsPrefix('a.*')).toThrow(/option subjectPrefix/);
    expect(() => assertNatsPrefix('a..b')).toThrow(OptionError);
  });

  it('knows which stream subjects cover the decision subjects', () => {
    expect(subjectCovers('cubestream.decisions.>', 'cubestream.decisions.>')).toBe(true);
    expect(subjectCovers('cubestream.>', 'cubestream.decisions.>')).toBe(true);
    expect(subjectCovers('>', 'cubestream.decisions.>')).toBe(true);
    expect(subjectCovers('cubestream.decisions.*', 'cubestream.decisions.>')).toBe(false);
    expect(subjectCovers('other.>', 'cubestream.decisions.>')).toBe(false);
    expect(subjectCovers('*.decisions.>', 'cubestream.decisions.>')).toBe(true);
    expect(subjectCovers('cubestream.decisions', 'cubestream.decisions.>')).toBe(false);
  });
});

describe('status and dead-letter messages', () => {
  it('encodes the status with fixed field order and an optional threshold', () => {
    expect(encodeStatus({ state: 'online', modelVersion: 'v1', at: 5 })).toBe(
      '{"state":"online","modelVersion":"v1","at":5}',
    );
    expect(encodeStatus({ state: 'offline', modelVersion: 'v1', threshold: 0.5, at: 5 })).toBe(
      '{"state":"offline","modelVersion":"v1","threshold":0.5,"at":5}',
    );
    expect(encodeStatus({ state: 'online', modelVersion: 'v1', threshold: Number.NaN, at: 5 })).not.toContain(
      'threshold',
    );
  });

  it('builds a dead letter from a CubestreamError and spreads metadata without overriding fixed fields', () => {
    const letter = deadLetterFromError(new CubestreamError('shape', 'cube: shape [2,3] does not match'), {
      cameraId: 'cam1',
      frameId: 9,
      at: 123,
      metadata: { topic: 'cubestream/cam1/frames', reason: 'spoofed' },
    });
    expect(JSON.parse(encodeDeadLetter(letter))).toEqual({
      schema: 'cubestream.deadletter/1',
      reason: 'shape',
      message: 'cube: shape [2,3] does not match',
      cameraId: 'cam1',
      frameId: 9,
      at: 123,
      topic: 'cubestream/cam1/frames',
    });
    expect(deadLetterFromError('plain').reason).toBe('error');
  });

  it('backs off exponentially up to the cap, with bounded jitter', () => {
    const none = (): number => 0.5;
    expect(backoffDelay(0, { initialMs: 100, maxMs: 1000 }, none)).toBe(100);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 1000 }, none)).toBe(800);
    expect(backoffDelay(50, { initialMs: 100, maxMs: 1000 }, none)).toBe(1000);
    expect(backoffDelay(0, { initialMs: 100 }, () => 0)).toBe(80);
    expect(backoffDelay(0, { initialMs: 100 }, () => 0.999)).toBeLessThanOrEqual(120);
  });
});
