import { firstValueFrom, lastValueFrom, take, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  createLineScanSimulator,
  SIM_ANOMALY_CLASS_IDS,
  SIM_CLASSES,
  SIM_NORMAL_CLASS_IDS,
  type SimulatedLineScanOptions,
  simulatedLineScan,
} from '../../../connectors/sources/simulated-line-scan.js';
import { SIM_BELT, SIM_BLACK_LENTIL, SIM_STONE } from '../../../connectors/sources/simulator/classes.js';
import { materialReflectance } from '../../../connectors/sources/simulator/spectra.js';
import type { SourceState } from '../../../connectors/sources/source-state.js';
import { type CubeFrame, validateFrame } from '../../../src/core/frame.js';
import type { RowsReady } from '../../../src/core/rows-ready.js';

/** The first `n` blocks of a simulator, synchronously. */
function blocks(options: SimulatedLineScanOptions, n: number): CubeFrame[] {
  const sim = createLineScanSimulator(options);
  const out: CubeFrame[] = [];
  for (let i = 0; i < n; i++) {
    const block = sim.nextFrame(0);
    if (block === undefined) break;
    out.push(block);
  }
  return out;
}

/** Per-class mean and standard deviation per band over some blocks. */
function classStats(frames: readonly CubeFrame[]) {
  const bands = frames[0]!.bands;
  const acc = new Map<number, { n: number; sum: Float64Array; squares: Float64Array }>();
  for (const f of frames) {
    for (let p = 0; p < f.labels!.length; p++) {
      const id = f.labels![p]!;
      let a = acc.get(id);
      if (a === undefined) {
        a = { n: 0, sum: new Float64Array(bands), squares: new Float64Array(bands) };
        acc.set(id, a);
      }
      a.n++;
      for (let b = 0; b < bands; b++) {
        const v = f.data[p * bands + b]!;
        a.sum[b]! += v;
        a.squares[b]! += v * v;
      }
    }
  }
  const stats = new Map<number, { n: number; mean: number[]; std: number[] }>();
  for (const [id, a] of acc) {
    const mean = [...a.sum].map((s) => s / a.n);
    const std = [...a.squares].map((q, b) => Math.sqrt(Math.max(0, q / a.n - mean[b]! ** 2)));
    stats.set(id, { n: a.n, mean, std });
  }
  return stats;
}

/** Byte-wise equality of two typed arrays (fast for millions of values, unlike toEqual). */
function sameValues(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

function countLabels(frames: readonly CubeFrame[], ids: readonly number[]): number {
  const wanted = new Uint8Array(256);
  for (const id of ids) wanted[id] = 1;
  let n = 0;
  for (const f of frames) for (const l of f.labels!) n += wanted[l]!;
  return n;
}

describe('class table', () => {
  it('splits the classes into normal and anomalous ids', () => {
    expect(SIM_NORMAL_CLASS_IDS).toEqual([1, 2, 4]);
    expect(SIM_ANOMALY_CLASS_IDS).toEqual([3, 5, 6, 7]);
    for (const id of SIM_ANOMALY_CLASS_IDS) expect(SIM_CLASSES[id]?.anomaly).toBe(true);
    for (const id of SIM_NORMAL_CLASS_IDS) expect(SIM_CLASSES[id]?.anomaly).toBe(false);
  });
});

describe('simulated line-scan camera', () => {
  it('emits valid 64 x 256 x 61 blocks (430-910 nm) with labels by default', () => {
    const [block] = blocks({}, 1);
    expect(block).toBeDefined();
    const f = validateFrame(block!);
    expect([f.height, f.width, f.bands, f.rowOffset, f.totalRows, f.frameId]).toEqual([
      64, 256, 61, 0, 64, 0,
    ]);
    expect(f.wavelengths[0]).toBe(430);
    expect(f.wavelengths[60]).toBe(910);
    expect(f.wavelengthUnits).toBe('nm');
    expect(f.labels?.length).toBe(64 * 256);
    expect(f.cameraId).toBe('cam0');
  });

  it('emits 224 bands of 400-1000 nm with the fx10 preset', () => {
    const [block] = blocks({ preset: 'fx10', width: 32, blockRows: 8, cameraId: 'fx' }, 1);
    const f = validateFrame(block!);
    expect([f.height, f.width, f.bands, f.cameraId]).toEqual([8, 32, 224, 'fx']);
    expect(f.wavelengths[0]).toBe(400);
    expect(f.wavelengths[223]).toBeCloseTo(1000, 3);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const options = { width: 96, blockRows: 16, seed: 5 };
    const a = blocks(options, 3);
    const b = blocks(options, 3);
    const c = blocks({ ...options, seed: 6 }, 3);
    for (let i = 0; i < 3; i++) {
      expect(sameValues(b[i]!.data, a[i]!.data)).toBe(true);
      expect(b[i]!.labels).toEqual(a[i]!.labels);
    }
    expect(c[0]!.labels).not.toEqual(a[0]!.labels);
    expect(sameValues(c[0]!.data, a[0]!.data)).toBe(false);
  });

  it('emits the same data paced or unpaced, and through two subscriptions', async () => {
    const options = { width: 48, blockRows: 8, maxBlocks: 3, seed: 9 };
    const fast = await lastValueFrom(simulatedLineScan(options).frames.pipe(toArray()));
    const source = simulatedLineScan({ ...options, linesPerSecond: 2000 });
    const paced = await lastValueFrom(source.frames.pipe(toArray()));
    const again = await lastValueFrom(source.frames.pipe(toArray()));
    expect(fast).toHaveLength(3);
    for (const run of [paced, again]) {
      expect(run).toHaveLength(3);
      for (let i = 0; i < 3; i++) {
        expect(sameValues(run[i]!.data, fast[i]!.data)).toBe(true);
        expect(run[i]!.labels).toEqual(fast[i]!.labels);
      }
    }
  });

  it('paced, publishes each block line by line on rows, in the buffer its frame then carries', async () => {
    const options = { width: 32, blockRows: 16, maxBlocks: 2, seed: 4, linesPerSecond: 100 };
    const source = simulatedLineScan(options);
    const progress: RowsReady[] = [];
    const rows = source.rows?.subscribe((r) => progress.push({ ...r, data: r.data }));
    const frames = await lastValueFrom(source.frames.pipe(toArray()));
    rows?.unsubscribe();
    expect(frames).toHaveLength(2);
    for (const frame of frames) {
      const mine = progress.filter((r) => r.data === frame.data);
      // 16 lines at 100 lines/s over ~160 ms: several partial steps, rows growing, never the whole block.
      expect(mine.length).toBeGreaterThan(1);
      const counts = mine.map((r) => r.rows);
      expect(counts).toEqual([...counts].sort((x, y) => x - y));
      expect(Math.max(...counts)).toBeLessThan(16);
      expect(mine[0]).toMatchObject({ cameraId: frame.cameraId, height: 16, width: 32, bands: frame.bands });
    }
    // A capture senses the same lines as a whole block.
    const sim = createLineScanSimulator(options);
    const capture = sim.beginFrame();
    expect(capture?.sense(5)).toBe(5);
    expect(capture?.sense(100)).toBe(11);
    const whole = blocks(options, 1)[0];
    expect(sameValues(capture?.finish().data ?? new Float32Array(), whole?.data ?? new Float32Array())).toBe(
      true,
    );
    expect(() => capture?.finish()).toThrow(/finished twice/);
    expect(() => sim.beginFrame()?.finish()).toThrow(/16 lines missing/);
  });

  it('reuses the buffers a consumer hands back, with the same data as fresh ones', async () => {
    const options = { width: 32, blockRows: 8, maxBlocks: 6, seed: 2 };
    const fresh = blocks(options, 6).map((b) => Float32Array.from(b.data));
    const source = simulatedLineScan({ ...options, linesPerSecond: 4000 });
    const seen: Float32Array[] = [];
    const buffers = new Set<Float32Array>();
    await lastValueFrom(
      source.frames.pipe(
        tap((frame) => {
          seen.push(Float32Array.from(frame.data));
          buffers.add(frame.data);
          expect(frame.release).toBeTypeOf('function');
          frame.release?.(); // done with it
        }),
        toArray(),
      ),
    );
    expect(seen).toEqual(fresh);
    expect(buffers.size).toBeLessThan(6); // buffers came round again
  });

  it('cuts frames into blocks: frame ids, row offsets and the frames limit', async () => {
    const frames = await lastValueFrom(
      simulatedLineScan({ width: 16, blockRows: 64, totalRows: 100, frames: 2 }).frames.pipe(toArray()),
    );
    expect(frames.map((f) => [f.frameId, f.rowOffset, f.height, f.totalRows])).toEqual([
      [0, 0, 64, 100],
      [0, 64, 36, 100],
      [1, 0, 64, 100],
      [1, 64, 36, 100],
    ]);
    for (const f of frames) validateFrame(f);
  });

  it('honours maxBlocks', async () => {
    const sim = createLineScanSimulator({ width: 8, blockRows: 4, maxBlocks: 2 });
    expect(sim.nextFrame()).toBeDefined();
    expect(sim.done).toBe(false);
    expect(sim.nextFrame()).toBeDefined();
    expect(sim.done).toBe(true);
    expect(sim.nextFrame()).toBeUndefined();
    expect(sim.blocksEmitted).toBe(2);
  });

  it('continues objects across block boundaries exactly as in one long block', () => {
    const options = { width: 128, seed: 3 };
    const [whole] = blocks({ ...options, blockRows: 128 }, 1);
    const halves = blocks({ ...options, blockRows: 64 }, 2);
    const rowValues = 128 * 61;
    expect(halves[0]!.data.length).toBe(64 * rowValues);
    expect(sameValues(halves[0]!.data, whole!.data.subarray(0, 64 * rowValues))).toBe(true);
    expect(sameValues(halves[1]!.data, whole!.data.subarray(64 * rowValues))).toBe(true);
    expect(halves[1]!.labels).toEqual(whole!.labels!.subarray(64 * 128));
    // Objects straddle the boundary: most object pixels on the last row of the first block
    // carry the same label on the first row of the next one.
    const last = halves[0]!.labels!.subarray(63 * 128);
    const first = halves[1]!.labels!.subarray(0, 128);
    let objectPixels = 0;
    let same = 0;
    for (let x = 0; x < 128; x++) {
      if (last[x] === SIM_BELT) continue;
      objectPixels++;
      if (first[x] === last[x]) same++;
    }
    expect(objectPixels).toBeGreaterThan(20);
    expect(same / objectPixels).toBeGreaterThan(0.7);
  });

  it('covers the belt at about the coverage option', () => {
    for (const coverage of [0.3, 0.6]) {
      const frames = blocks({ width: 128, bands: 4, coverage, seed: 11 }, 12);
      const belt = countLabels(frames, [SIM_BELT]);
      const measured = 1 - belt / (12 * 64 * 128);
      expect(Math.abs(measured - coverage), `coverage ${coverage}`).toBeLessThan(0.06);
    }
  });

  it('draws foreign bodies near the anomaly rate, and none at rate 0', () => {
    const sim = createLineScanSimulator({ width: 128, bands: 4, anomalyRate: 0.1, seed: 2 });
    const frames: CubeFrame[] = [];
    for (let i = 0; i < 30; i++) frames.push(sim.nextFrame()!);
    const { objects, byClass } = sim.stats();
    const foreign = SIM_ANOMALY_CLASS_IDS.reduce((s, id) => s + (byClass[id] ?? 0), 0);
    expect(objects).toBeGreaterThan(1000);
    expect(Math.abs(foreign / objects - 0.1)).toBeLessThan(0.025);
    // Foreign bodies show up in the labels too, in every anomaly class.
    for (const id of SIM_ANOMALY_CLASS_IDS)
      expect(countLabels(frames, [id]), `class ${id}`).toBeGreaterThan(0);

    const clean = blocks({ width: 128, bands: 4, anomalyRate: 0, seed: 2 }, 30);
    expect(countLabels(clean, SIM_ANOMALY_CLASS_IDS)).toBe(0);
    expect(countLabels(clean, [0])).toBe(0);
  });

  it('makes the classes spectrally distinguishable, stones brighter than black lentils', () => {
    const stats = classStats(blocks({ width: 128, anomalyRate: 0.3, seed: 4 }, 8));
    const ids = [1, 2, 3, 4];
    for (const id of ids) expect(stats.get(id)?.n, `pixels of class ${id}`).toBeGreaterThan(100);
    for (const i of ids) {
      for (const j of ids) {
        if (i >= j) continue;
        const a = stats.get(i)!;
        const b = stats.get(j)!;
        // Some band separates the class means by more than twice the pooled spread
        // (object variability, texture and noise together).
        let best = 0;
        for (let band = 0; band < a.mean.length; band++) {
          const spread = Math.sqrt((a.std[band]! ** 2 + b.std[band]! ** 2) / 2);
          best = Math.max(best, Math.abs(a.mean[band]! - b.mean[band]!) / spread);
        }
        expect(best, `classes ${i} and ${j}`).toBeGreaterThan(1.5);
      }
    }
    const stone = stats.get(SIM_STONE)!.mean;
    const black = stats.get(SIM_BLACK_LENTIL)!.mean;
    for (let band = 0; band < stone.length; band++) expect(stone[band]!).toBeGreaterThan(black[band]!);
  });

  it('adds finite shot and read noise and keeps whole DN within 0..4095', () => {
    const options = { width: 128, seed: 8, illuminationDrift: 0 };
    const [noisy] = blocks(options, 1);
    const [clean] = blocks({ ...options, readNoise: 0, shotNoise: 0 }, 1);
    // Same scene and texture: the difference is the noise alone.
    expect(noisy!.labels).toEqual(clean!.labels);
    let squares = 0;
    let expected = 0;
    let outside = 0;
    let fractional = 0;
    for (let i = 0; i < noisy!.data.length; i++) {
      const v = noisy!.data[i]!;
      if (!(v >= 0 && v <= 4095)) outside++;
      if (v !== Math.round(v)) fractional++;
      const mean = clean!.data[i]!;
      squares += (v - mean) ** 2;
      expected += 4 + 0.25 * mean + 1 / 12; // read² + shot x signal + rounding
    }
    expect(outside).toBe(0);
    expect(fractional).toBe(0);
    expect(squares / expected).toBeGreaterThan(0.9);
    expect(squares / expected).toBeLessThan(1.1);
    // Two pixels of flat belt differ.
    const f = noisy!;
    const beltPixels: number[] = [];
    for (let p = 0; p < f.labels!.length && beltPixels.length < 2; p++) {
      if (f.labels![p] === SIM_BELT) beltPixels.push(p);
    }
    const [p, q] = beltPixels as [number, number];
    expect(f.data.subarray(p * 61, p * 61 + 61)).not.toEqual(f.data.subarray(q * 61, q * 61 + 61));
  });

  it('emits reflectance near the material reflectance with output reflectance', () => {
    const [f] = blocks({ width: 128, coverage: 0, output: 'reflectance', illuminationDrift: 0 }, 1);
    const band = 40;
    let sum = 0;
    for (let p = 0; p < 64 * 128; p++) sum += f!.data[p * 61 + band]!;
    const expected = materialReflectance(SIM_BELT, f!.wavelengths[band]!);
    expect(sum / (64 * 128)).toBeGreaterThan(0.95 * expected);
    expect(sum / (64 * 128)).toBeLessThan(1.05 * expected);
  });

  it('drifts the illumination slowly', () => {
    const sim = createLineScanSimulator({ illuminationDrift: 0.05, illuminationDriftPeriod: 1000 });
    const levels = [0, 100, 200, 300, 400].map((y) => sim.sensor.illuminationAt(y, 30));
    expect(Math.max(...levels) - Math.min(...levels)).toBeGreaterThan(0.01);
    for (const l of levels) expect(Math.abs(l - 1)).toBeLessThanOrEqual(0.05 * 1.5 + 1e-9);
    const still = createLineScanSimulator({ illuminationDrift: 0 });
    expect(still.sensor.illuminationAt(12345, 3)).toBe(1);
  });

  it('sticks dead sensor elements at 0 or full scale, keeping true labels', () => {
    const options = { width: 64, blockRows: 16, seed: 12 };
    const sim = createLineScanSimulator({ ...options, deadPixelFraction: 0.01 });
    const dead = sim.sensor.dead;
    expect(dead.length).toBe(Math.round(0.01 * 64 * 61));
    const f = sim.nextFrame()!;
    const [healthy] = blocks(options, 1);
    expect(f.labels).toEqual(healthy!.labels);
    for (const d of dead) {
      expect([0, 4095]).toContain(d.dn);
      for (let row = 0; row < 16; row++) expect(f.data[(row * 64 + d.x) * 61 + d.band]).toBe(d.dn);
    }
    expect(new Set(dead.map((d) => d.dn)).size).toBe(2);
    expect(createLineScanSimulator(options).sensor.dead).toHaveLength(0);
  });

  it('goes starting -> running -> ended and completes at the limit', async () => {
    const source = simulatedLineScan({ width: 8, blockRows: 4, maxBlocks: 2 });
    const states: SourceState[] = [];
    const sub = source.state.subscribe((s) => states.push(s));
    expect(states).toEqual(['starting']);
    const frames = await lastValueFrom(source.frames.pipe(toArray()));
    expect(frames).toHaveLength(2);
    expect(states).toEqual(['starting', 'running', 'ended']);
    sub.unsubscribe();
  });

  it('stays running while another subscription is still running', async () => {
    const source = simulatedLineScan({ width: 8, blockRows: 4 });
    const states: SourceState[] = [];
    source.state.subscribe((s) => states.push(s));
    const a = source.frames.subscribe();
    const b = source.frames.subscribe();
    a.unsubscribe();
    expect(states).toEqual(['starting', 'running']);
    b.unsubscribe();
    expect(states).toEqual(['starting', 'running', 'ended']);
  });

  it('stops emitting and leaves no timer after unsubscribe', async () => {
    for (const linesPerSecond of [undefined, 4000]) {
      const source = simulatedLineScan({
        width: 8,
        blockRows: 4,
        ...(linesPerSecond ? { linesPerSecond } : {}),
      });
      const states: SourceState[] = [];
      source.state.subscribe((s) => states.push(s));
      let count = 0;
      const sub = source.frames.subscribe(() => count++);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(count).toBeGreaterThan(0);
      // Synchronously around unsubscribe: exactly our pending timer (or immediate) goes away.
      const during = timersPending();
      sub.unsubscribe();
      expect(timersPending()).toBe(during - 1);
      const seen = count;
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(count).toBe(seen);
      expect(states).toEqual(['starting', 'running', 'ended']);
    }
    // take() from an infinite source completes too.
    const some = await firstValueFrom(
      simulatedLineScan({ width: 8, blockRows: 4 }).frames.pipe(take(5), toArray()),
    );
    expect(some.map((f) => f.frameId)).toEqual([0, 1, 2, 3, 4]);
  });
});

/** Pending timers and immediates of this process (Node's public resource summary). */
function timersPending(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
}
