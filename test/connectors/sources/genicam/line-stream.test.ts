import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GenicamError } from '../../../../connectors/sources/genicam/aravis-library.js';
import type { GenicamFeatures } from '../../../../connectors/sources/genicam/camera-features.js';
import { framesMissing } from '../../../../connectors/sources/genicam/frame-id-gap.js';
import {
  type LineStream,
  type LineStreamOptions,
  type OpenedCamera,
  openLineStream,
  type RawLine,
} from '../../../../connectors/sources/genicam/line-stream.js';
import { ConfigError } from '../../../../src/core/config-error.js';
import {
  FAKE_CAMERA_HOOK_TIMEOUT_MS,
  type FakeCamera,
  fakeCameraInstalled,
  startFakeCamera,
} from '../../../helpers/fake-gv-camera.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../../..');

/** A line as kept by the recorder: its fields, and a few pixels copied while the bytes were valid. */
interface KeptLine extends Omit<RawLine, 'bytes'> {
  readonly byteLength: number;
  readonly samples: readonly { x: number; y: number; value: number }[];
}

/** Records every event of a stream; `until` waits for a condition on the record. */
class Recorder {
  readonly opened: { camera: OpenedCamera; reconnected: boolean }[] = [];
  readonly lines: KeptLine[] = [];
  readonly incomplete: { frameId: number; status: string }[] = [];
  readonly gaps: { afterFrameId: number; frameId: number; missing: number }[] = [];
  readonly lost: { error: Error; attempt: number; retryInMs: number }[] = [];
  readonly fatal: Error[] = [];
  /** Frame ids of every buffer, complete or not, in arrival order. */
  readonly ids: number[] = [];
  stream: LineStream | undefined;

  open(options: LineStreamOptions): this {
    this.stream = openLineStream(options, {
      onOpened: (camera, reconnected) => this.opened.push({ camera, reconnected }),
      onLine: (line) => {
        const { bytes, ...rest } = line;
        const samples = [0, 1, 37].flatMap((x) => [0, 3].map((y) => ({ x, y, value: pixel(line, x, y) })));
        this.lines.push({ ...rest, byteLength: bytes.byteLength, samples });
        this.ids.push(line.frameId);
      },
      onIncomplete: (event) => {
        this.incomplete.push(event);
        this.ids.push(event.frameId);
      },
      onGap: (event) => this.gaps.push(event),
      onLost: (event) => this.lost.push(event),
      onFatal: (error) => this.fatal.push(error),
    });
    return this;
  }

  /** Waits until `done()`; a fatal error ends the wait with that error unless `fatalExpected`. */
  async until(what: string, done: () => boolean, timeoutMs = 30_000, fatalExpected = false): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.fatal.length > 0 && !fatalExpected) throw this.fatal[0];
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function pixel(line: RawLine, x: number, y: number): number {
  const i = y * line.width + x;
  return line.pixelFormat === 'Mono16'
    ? (line.bytes[2 * i] ?? 0) | ((line.bytes[2 * i + 1] ?? 0) << 8)
    : (line.bytes[i] ?? 0);
}

/** The fake camera's test pattern at the default exposure (scale 1). */
function expected(format: string, frameId: number, x: number, y: number): number {
  return format === 'Mono16' ? (256 * (x + y + frameId)) % 65535 : (x + y + frameId) % 255;
}

const SMALL: GenicamFeatures = { width: 64, height: 4, pixelFormat: 'Mono8', frameRate: 200 };

describe.skipIf(!fakeCameraInstalled && process.env.CI !== 'true')(
  'openLineStream on the fake GigE Vision camera',
  () => {
    let camera: FakeCamera;
    let recorder: Recorder | undefined;
    const record = (options: LineStreamOptions) => {
      recorder = new Recorder().open(options);
      return recorder;
    };
    beforeAll(async () => {
      camera = await startFakeCamera({ serial: 'LINES1' });
    }, FAKE_CAMERA_HOOK_TIMEOUT_MS);
    afterEach(async () => {
      await recorder?.stream?.close();
      recorder = undefined;
    });
    afterAll(() => camera?.dispose());

    it('delivers Mono8 lines with the camera pattern, across the block-id wrap without false gaps', async () => {
      await camera.restart(); // block ids from 65400 again
      const r = record({ camera: '127.0.0.1', features: SMALL });
      await r.until('200 lines', () => r.lines.length >= 200);
      expect(r.opened).toHaveLength(1);
      expect(r.opened[0]?.reconnected).toBe(false);
      expect(r.opened[0]?.camera).toMatchObject({
        id: 'Aravis-Fake-LINES1',
        serial: 'LINES1',
        address: '127.0.0.1',
        width: 64,
        height: 4,
        pixelFormat: 'Mono8',
        payloadBytes: 256,
      });
      for (const line of r.lines) {
        expect([line.byteLength, line.width, line.height, line.pixelFormat]).toEqual([256, 64, 4, 'Mono8']);
        for (const s of line.samples) expect(s.value).toBe(expected('Mono8', line.frameId, s.x, s.y));
      }
      // Block ids started near 65400 and wrapped past 65535 -> 1.
      expect(r.ids[0]).toBeGreaterThan(65_000);
      expect(r.ids.some((id) => id < 1000)).toBe(true);
      expect(r.ids).not.toContain(0);
      expect(r.gaps).toEqual([]);
      for (let i = 1; i < r.ids.length; i++) expect(framesMissing(r.ids[i - 1] ?? 0, r.ids[i] ?? 0)).toBe(0);
      const stats = r.stream?.stats();
      expect(stats?.lines).toBe(r.lines.length);
      expect(stats?.gapLines).toBe(0);
      // Lines are stamped on the camera clock anchored to the host clock: increasing with the ids.
      for (let i = 1; i < r.lines.length; i++)
        expect(r.lines[i]?.deviceTimestampNs).toBeGreaterThan(r.lines[i - 1]?.deviceTimestampNs ?? 0n);
      const first = r.lines[0];
      const last = r.lines.at(-1);
      if (first === undefined || last === undefined) throw new Error('no lines');
      expect(last.capturedAt - first.capturedAt).toBeCloseTo(
        Number(last.deviceTimestampNs - first.deviceTimestampNs) / 1e6,
        3,
      );
    });

    it('sets 1024 x 224 Mono16 at 300 lines/s, reads it back, and delivers Mono16 lines with its pattern', async () => {
      const r = record({
        camera: 'Aravis-Fake-LINES1',
        features: { width: 1024, height: 224, pixelFormat: 'Mono16', frameRate: 300 },
      });
      await r.until('20 lines', () => r.lines.length >= 20);
      const opened = r.opened[0]?.camera;
      expect(opened?.features).toMatchObject({
        Width: 1024,
        Height: 224,
        PixelFormat: 'Mono16',
        PayloadSize: 458_752,
      });
      expect(opened?.features.AcquisitionFrameRate).toBeCloseTo(300, 0);
      for (const line of r.lines) {
        expect([line.byteLength, line.width, line.height, line.pixelFormat]).toEqual([
          458_752,
          1024,
          224,
          'Mono16',
        ]);
        for (const s of line.samples) expect(s.value).toBe(expected('Mono16', line.frameId, s.x, s.y));
      }
    });

    it('is fatal when the camera refuses a feature at the first open, naming it', async () => {
      const r = record({ camera: '127.0.0.1', features: { ...SMALL, extra: { Gain: 3 } } });
      await r.until('a fatal error', () => r.fatal.length > 0, 30_000, true);
      expect(r.fatal).toHaveLength(1);
      expect(r.fatal[0]).toBeInstanceOf(GenicamError);
      expect(r.fatal[0]?.message).toMatch(/Gain/);
      expect(r.opened).toEqual([]);
      expect(r.lost).toEqual([]);
    });

    it('reports a camera that is not there as lost, with growing retries, until closed', async () => {
      const r = record({ camera: 'Nobody-There-1', features: SMALL, backoff: { initialMs: 50, maxMs: 200 } });
      await r.until('three failed opens', () => r.lost.length >= 3);
      expect(r.lost.map((l) => l.attempt).slice(0, 3)).toEqual([1, 2, 3]);
      expect(r.lost[0]?.error).toBeInstanceOf(GenicamError);
      expect(r.lost[0]?.error.message).toMatch(/arv_camera_new/);
      expect(r.fatal).toEqual([]);
      await r.stream?.close();
      const after = r.lost.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(r.lost).toHaveLength(after);
    });

    it('refuses out-of-range stream settings', () => {
      const ignore = () => {};
      const handlers = {
        onOpened: ignore,
        onLine: ignore,
        onIncomplete: ignore,
        onGap: ignore,
        onLost: ignore,
        onFatal: ignore,
      };
      expect(() => openLineStream({ camera: 'x', features: {}, buffers: 1 }, handlers)).toThrow(ConfigError);
      expect(() => openLineStream({ camera: 'x', features: {}, lostAfterMs: 10 }, handlers)).toThrow(
        /lostAfterMs/,
      );
    });

    it('reconnects when the camera is killed and comes back: lost, reopened with the features re-applied, lines again', async () => {
      const r = record({
        camera: '127.0.0.1',
        features: SMALL,
        lostAfterMs: 1000,
        backoff: { initialMs: 100, maxMs: 500 },
      });
      await r.until('lines', () => r.lines.length >= 10);
      await camera.kill();
      await r.until('the loss', () => r.lost.length >= 1);
      expect(r.lost[0]?.error).toBeInstanceOf(GenicamError);
      await camera.restart(); // a fresh camera: 512 x 512 Mono8 until the features are set again
      await r.until('the reopen', () => r.opened.length >= 2, 60_000);
      const reopened = r.opened[1];
      expect(reopened?.reconnected).toBe(true);
      expect(reopened?.camera.features).toMatchObject({
        Width: 64,
        Height: 4,
        PixelFormat: 'Mono8',
        PayloadSize: 256,
      });
      const before = r.lines.length;
      await r.until('lines after the reconnect', () => r.lines.length >= before + 10);
      const after = r.lines.slice(before);
      for (const line of after) {
        expect(line.byteLength).toBe(256);
        for (const s of line.samples) expect(s.value).toBe(expected('Mono8', line.frameId, s.x, s.y));
      }
      expect(r.stream?.stats().reconnects).toBe(1);
      expect(r.fatal).toEqual([]);
    }, 120_000);

    it('closes promptly enough for the process to exit by itself (no dangling worker or handle)', async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'line-stream-child.ts')], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      const guard = setTimeout(() => child.kill('SIGKILL'), 50_000);
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      clearTimeout(guard);
      expect({ code, signal, out: out.trim() }).toMatchObject({ code: 0, signal: null });
      expect(out).toMatch(/closed after 5 lines/);
    }, 60_000);
  },
);

describe.skipIf(!fakeCameraInstalled && process.env.CI !== 'true')(
  'openLineStream with packet loss (-r 100)',
  () => {
    let camera: FakeCamera;
    let stream: LineStream | undefined;
    beforeAll(async () => {
      camera = await startFakeCamera({ serial: 'LOSSY1', lossPerThousand: 100 });
    }, FAKE_CAMERA_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await stream?.close();
      await camera?.dispose();
    });

    it('reports incomplete buffers and counts them, and lines still flow', async () => {
      const r = new Recorder().open({ camera: '127.0.0.1', features: SMALL });
      stream = r.stream;
      await r.until('lost and complete lines', () => r.incomplete.length >= 5 && r.lines.length >= 20);
      expect(new Set(r.incomplete.map((i) => i.status))).not.toContain('SUCCESS');
      for (const i of r.incomplete)
        expect(['MISSING_PACKETS', 'TIMEOUT', 'WRONG_PACKET_ID']).toContain(i.status);
      for (const line of r.lines)
        for (const s of line.samples) expect(s.value).toBe(expected('Mono8', line.frameId, s.x, s.y));
      await new Promise((resolve) => setTimeout(resolve, 300)); // a statistics update
      const stats = r.stream?.stats();
      expect(stats?.incomplete).toBe(r.incomplete.length);
      expect(stats?.lines).toBe(r.lines.length);
      expect((stats?.aravis.failures ?? 0) + (stats?.aravis.missingPackets ?? 0)).toBeGreaterThan(0);
    });
  },
);
