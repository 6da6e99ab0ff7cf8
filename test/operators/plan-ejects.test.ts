import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createLineScanSimulator, isSimAnomaly } from '../../connectors/sources/simulated-line-scan.js';
import { decideAnomalies } from '../../operators/decide-anomalies.js';
import {
  createEjectPlanner,
  type EjectCommand,
  type EjectorOptions,
  type EjectPlanInput,
  ejectKinematics,
  planEjects,
  resolveEjectorOptions,
  valvesForColumns,
} from '../../operators/plan-ejects.js';
import type { Blob } from '../../src/core/decision.js';
import type { CubeFrame } from '../../src/core/frame.js';
import { OptionError } from '../../src/core/options.js';
import type { ThresholdedFrame } from '../../src/core/scored-frame.js';

const T = 1_700_000_000_000;

/** 1 kHz camera over a 2 m/s belt, 0.3 m to the valves (150 ms), 1 mm pixels, 10 mm valves. */
const BELT: EjectorOptions = {
  lineRateHz: 1000,
  beltSpeedMetresPerSecond: 2,
  distanceToValvesMetres: 0.3,
  valveCount: 8,
  valvePitchMetres: 0.01,
  pixelPitchMetres: 0.001,
};

function blob(x: number, y: number, w: number, h: number, area = w * h): Blob {
  return { x, y, w, h, area, maxScore: 9 };
}

/** A decided block of rows `rowOffset .. rowOffset + height - 1`, stamped `capturedAt` at its last row. */
function block(
  blobs: Blob[],
  init: Partial<EjectPlanInput['decision']> & { height?: number; totalRows?: number } = {},
) {
  const { height = 64, totalRows = 128, ...decision } = init;
  return {
    height,
    totalRows,
    decision: {
      cameraId: 'cam0',
      frameId: 3,
      rowOffset: 64,
      capturedAt: T,
      anomalous: true,
      blobs,
      ...decision,
    },
  } satisfies EjectPlanInput;
}

const geometry = (o: Partial<EjectorOptions> = {}) => resolveEjectorOptions({ ...BELT, ...o });

describe('resolveEjectorOptions', () => {
  it('fills the defaults', () => {
    expect(resolveEjectorOptions(BELT)).toEqual({
      ...BELT,
      encoderLinesPerRow: 1,
      valveOffsetMetres: 0,
      valveOpenMs: 10,
      minBlobArea: 4,
      fireAtUnit: 'epoch-ms',
      minBudgetMs: 0,
    });
  });

  it.each([
    [{ valveCount: 0 }, 'ejector.valveCount'],
    [{ valveCount: 2.5 }, 'ejector.valveCount'],
    [{ distanceToValvesMetres: -0.1 }, 'ejector.distanceToValvesMetres'],
    [{ pixelPitchMetres: 0 }, 'ejector.pixelPitchMetres'],
    [{ lineRateHz: Number.POSITIVE_INFINITY }, 'ejector.lineRateHz'],
    [{ valveOpenMs: 0 }, 'ejector.valveOpenMs'],
    [{ minBudgetMs: -1 }, 'ejector.minBudgetMs'],
    [{ fireAtUnit: 'ticks' }, 'ejector.fireAtUnit'],
    [{ linesPerMetre: 1000 }, 'ejector.linesPerMetre'], // both speed sources
    [{ beltSpeedMetresPerSecond: undefined }, 'ejector.beltSpeedMetresPerSecond'], // neither
    [{ fireAtUnit: 'encoder-line' }, 'ejector.fireAtUnit'], // encoder lines without an encoder
    [{ valvePitch: 0.01 }, 'ejector'], // unknown key
  ])('refuses %j naming %s', (change, option) => {
    const attempt = () => resolveEjectorOptions({ ...BELT, ...change } as EjectorOptions);
    expect(attempt).toThrow(OptionError);
    try {
      attempt();
    } catch (error) {
      expect((error as OptionError).option).toBe(option);
      expect((error as OptionError).message).toMatch(/^operator option ejector/);
    }
  });

  it('explains what to give for the speed', () => {
    expect(() => resolveEjectorOptions({ ...BELT, linesPerMetre: 1000 })).toThrow(/not both/);
    expect(() => resolveEjectorOptions({ ...BELT, fireAtUnit: 'encoder-line' })).toThrow(
      /needs linesPerMetre/,
    );
  });
});

describe('ejectKinematics', () => {
  it('takes the speed as given, or from the encoder and line rate', () => {
    expect(ejectKinematics(geometry())).toEqual({
      speedMetresPerSecond: 2,
      rowMs: 1,
      travelMs: 150,
      travelEncoderLines: undefined,
    });
    const encoder = resolveEjectorOptions({
      ...BELT,
      beltSpeedMetresPerSecond: undefined,
      linesPerMetre: 4000,
      encoderLinesPerRow: 2,
    });
    // 1000 rows/s x 2 encoder lines per row / 4000 lines per metre = 0.5 m/s: 0.3 m in 600 ms, 1200 lines.
    expect(ejectKinematics(encoder)).toEqual({
      speedMetresPerSecond: 0.5,
      rowMs: 1,
      travelMs: 600,
      travelEncoderLines: 1200,
    });
  });
});

describe('valvesForColumns', () => {
  const g = geometry(); // valve v spans [10v, 10v + 10) mm, column c spans [c, c + 1) mm

  it('takes every valve the columns overlap, not one whose edge they touch', () => {
    expect(valvesForColumns(0, 10, g)).toEqual([0]); // 0-10 mm: ends on valve 1's edge
    expect(valvesForColumns(10, 1, g)).toEqual([1]); // starts on valve 1's edge
    expect(valvesForColumns(9, 2, g)).toEqual([0, 1]); // 9-11 mm
    expect(valvesForColumns(5, 30, g)).toEqual([0, 1, 2, 3]); // 5-35 mm
    expect(valvesForColumns(79, 1, g)).toEqual([7]); // last column of the last valve
  });

  it('clamps to the valve bar and is empty beside it', () => {
    expect(valvesForColumns(75, 20, g)).toEqual([7]); // runs past the bar's end (80 mm)
    expect(valvesForColumns(80, 5, g)).toEqual([]); // beside the bar
    const shifted = geometry({ valveOffsetMetres: 0.005 }); // valve 0 starts at column 5
    expect(valvesForColumns(0, 5, shifted)).toEqual([]);
    expect(valvesForColumns(0, 6, shifted)).toEqual([0]);
    expect(valvesForColumns(14, 2, shifted)).toEqual([0, 1]); // 14-16 mm across the 15 mm edge
    const early = geometry({ valveOffsetMetres: -0.003 }); // valve 0 starts 3 mm before column 0
    expect(valvesForColumns(0, 7, early)).toEqual([0]); // 0-7 mm inside [-3, 7)
    expect(valvesForColumns(0, 8, early)).toEqual([0, 1]);
  });

  it('holds on fractional pitches (rounding at the edges)', () => {
    const fine = geometry({ pixelPitchMetres: 0.0001, valvePitchMetres: 0.0003, valveCount: 100 });
    expect(valvesForColumns(3, 3, fine)).toEqual([1]); // exactly valve 1: 0.3-0.6 mm
    expect(valvesForColumns(0, 0, fine)).toEqual([]);
  });
});

describe('planEjects', () => {
  it('times a blob by its first row in epoch ms (computed by hand)', () => {
    // Rows 64..127, capturedAt = T at row 127. Blob from row 100 (27 rows = 27 ms before T),
    // columns 12..26 (12-27 mm: valves 1, 2). At the valves 150 ms later: T + 123.
    const plan = planEjects(block([blob(12, 100, 15, 5)]), geometry(), T + 20);
    expect(plan).toEqual({
      ejects: [
        {
          cameraId: 'cam0',
          frameId: 3,
          blobId: '3:64:0',
          valves: [1, 2],
          fireAt: T + 123,
          openMs: 10,
          budgetMs: 103,
        },
      ],
      late: [],
      unreachable: [],
    });
  });

  it('counts encoder lines from row 0 of frame 0 (computed by hand)', () => {
    const encoder = geometry({
      beltSpeedMetresPerSecond: undefined,
      linesPerMetre: 2000,
      fireAtUnit: 'encoder-line',
    });
    // 0.5 m/s; 0.3 m = 600 lines = 600 ms. Frame 3 of 128 rows, blob row 100: line 3*128 + 100 = 484.
    const [eject] = planEjects(block([blob(0, 100, 4, 4)]), encoder, T).ejects;
    expect(eject?.fireAt).toBe(484 + 600);
    expect(eject?.budgetMs).toBeCloseTo(-27 + 600, 9);
    const divided = geometry({
      beltSpeedMetresPerSecond: undefined,
      linesPerMetre: 2000,
      encoderLinesPerRow: 2,
      fireAtUnit: 'encoder-line',
    });
    // One row every 2 encoder lines: 1 m/s, 600 lines = 300 ms; row 484 = encoder line 968.
    const [twice] = planEjects(block([blob(0, 100, 4, 4)]), divided, T).ejects;
    expect(twice?.fireAt).toBe(968 + 600);
    expect(twice?.budgetMs).toBeCloseTo(-27 + 300, 9);
  });

  it('sends an eject with budget to spare and marks one whose fireAt has passed late', () => {
    const decided = block([blob(0, 64, 4, 4), blob(20, 127, 4, 1)]);
    // Row 64 reaches the valves at T - 63 + 150 = T + 87; row 127 at T + 150.
    const plan = planEjects(decided, geometry(), T + 100);
    expect(plan.late.map((e) => [e.blobId, e.budgetMs])).toEqual([['3:64:0', -13]]);
    expect(plan.ejects.map((e) => [e.blobId, e.budgetMs])).toEqual([['3:64:1', 50]]);
    // Due exactly now: not yet passed.
    expect(planEjects(decided, geometry(), T + 87).late).toEqual([]);
    // A budget below minBudgetMs is late too.
    const strict = planEjects(decided, geometry({ minBudgetMs: 60 }), T + 100);
    expect(strict.late.map((e) => e.blobId)).toEqual(['3:64:0', '3:64:1']);
    expect(strict.ejects).toEqual([]);
  });

  it('skips blobs below minBlobArea but keeps their place in the blob ids', () => {
    const blobs = [blob(0, 70, 3, 1), blob(10, 70, 2, 2), blob(30, 70, 5, 1, 3)];
    const plan = planEjects(block(blobs), geometry(), T);
    expect(plan.ejects.map((e) => e.blobId)).toEqual(['3:64:1']);
    expect(planEjects(block(blobs), geometry({ minBlobArea: 1 }), T).ejects).toHaveLength(3);
  });

  it('plans nothing for a decision that is not anomalous', () => {
    const plan = planEjects(block([blob(0, 70, 5, 5)], { anomalous: false }), geometry(), T);
    expect(plan).toEqual({ ejects: [], late: [], unreachable: [] });
  });

  it('lists blobs beside the valve bar as unreachable', () => {
    const plan = planEjects(block([blob(100, 70, 5, 5), blob(70, 70, 20, 2)]), geometry(), T);
    expect(plan.unreachable).toEqual(['3:64:0']);
    expect(plan.ejects.map((e) => e.valves)).toEqual([[7]]);
  });

  it('keeps the valves open while a long blob passes', () => {
    const [eject] = planEjects(block([blob(0, 70, 2, 40)]), geometry(), T).ejects;
    expect(eject?.openMs).toBe(40); // 40 rows at 1 kHz
    const [short] = planEjects(block([blob(0, 70, 4, 4)]), geometry({ valveOpenMs: 25 }), T).ejects;
    expect(short?.openMs).toBe(25);
  });

  it('places capturedAt at capturedRow for an assembled frame', () => {
    // A 128-row frame assembled from 64-row blocks: capturedAt is its first block's, row 63.
    const assembled = { ...block([blob(0, 100, 4, 4)], { rowOffset: 0 }), height: 128, capturedRow: 63 };
    const [eject] = planEjects(assembled, geometry(), T).ejects;
    expect(eject?.fireAt).toBe(T + 37 + 150);
    expect(eject?.blobId).toBe('3:0:0');
  });

  it('createEjectPlanner checks the settings once and reads its clock', () => {
    expect(() => createEjectPlanner({ ...BELT, valveCount: -1 })).toThrow(OptionError);
    const plan = createEjectPlanner(BELT, () => T + 200);
    expect(plan(block([blob(0, 100, 4, 4)])).late).toHaveLength(1);
    expect(plan(block([blob(0, 100, 4, 4)]), T).ejects).toHaveLength(1);
  });
});

/** A foreign body of one block as the labels draw it (8-connected), found without the project's code. */
interface Body {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly area: number;
  readonly columns: ReadonlySet<number>;
}

/** The 8-connected regions of foreign-body labels of a block, by flood fill; `y` in whole-frame rows. */
function foreignBodies(frame: CubeFrame): Body[] {
  const { width, height, labels } = frame;
  const seen = new Uint8Array(width * height);
  const bodies: Body[] = [];
  for (let start = 0; start < width * height; start++) {
    if (seen[start] === 1 || !isSimAnomaly(labels![start]!)) continue;
    const stack = [start];
    seen[start] = 1;
    const columns = new Set<number>();
    let [x0, x1, y0, y1, area] = [width, -1, height, -1, 0];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const [r, c] = [Math.floor(p / width), p % width];
      columns.add(c);
      [x0, x1, y0, y1] = [Math.min(x0, c), Math.max(x1, c), Math.min(y0, r), Math.max(y1, r)];
      area++;
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) {
          const [nr, nc] = [r + dr, c + dc];
          if (nr < 0 || nr >= height || nc < 0 || nc >= width) continue;
          const q = nr * width + nc;
          if (seen[q] === 1 || !isSimAnomaly(labels![q]!)) continue;
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
    bodies.push({ x: x0, y: y0 + frame.rowOffset, w: x1 - x0 + 1, h: y1 - y0 + 1, area, columns });
  }
  return bodies;
}

describe('planEjects on the simulated belt', () => {
  // 256 px at 1 mm over a 1 m/s belt at 1 kHz (square pixels), 0.25 m to the valves (250 ms);
  // 21 valves of 12.5 mm from 3 mm before column 0 (to 259.5 mm): the bar spans the image.
  const SIM = { width: 256, bands: 8, blockRows: 64, totalRows: 128, frames: 4, anomalyRate: 0.25, seed: 11 };
  const ejector = resolveEjectorOptions({
    lineRateHz: 1000,
    beltSpeedMetresPerSecond: 1,
    distanceToValvesMetres: 0.25,
    valveCount: 21,
    valvePitchMetres: 0.0125,
    valveOffsetMetres: -0.003,
    pixelPitchMetres: 0.001,
    minBlobArea: 6,
  });
  const rowMs = 1;
  const travelMs = 250;
  const t0 = T; // capture time of the camera's line 0

  /** The simulator's blocks, each stamped with the capture time of its last line (as the camera does). */
  function capture(): CubeFrame[] {
    const sim = createLineScanSimulator(SIM);
    const frames: CubeFrame[] = [];
    for (let line = SIM.blockRows - 1; !sim.done; line += SIM.blockRows)
      frames.push(sim.nextFrame(t0 + line * rowMs)!);
    return frames;
  }

  /** Every foreign-body pixel scores 1, the rest 0; τ = 0.5. */
  function fromLabels(frame: CubeFrame): ThresholdedFrame {
    const {
      data: _data,
      bands: _bands,
      wavelengths: _w,
      wavelengthUnits: _u,
      release: _r,
      ...identity
    } = frame;
    return {
      ...identity,
      scores: Float32Array.from(frame.labels!, (id) => (isSimAnomaly(id) ? 1 : 0)),
      threshold: 0.5,
    };
  }

  /** The valves that overlap a column, by brute force over the bar. */
  function valvesOver(column: number): number[] {
    const out: number[] = [];
    for (let v = 0; v < ejector.valveCount; v++) {
      const left = ejector.valveOffsetMetres + v * ejector.valvePitchMetres;
      const right = left + ejector.valvePitchMetres;
      if (
        left < (column + 1) * ejector.pixelPitchMetres - 1e-12 &&
        right > column * ejector.pixelPitchMetres + 1e-12
      )
        out.push(v);
    }
    return out;
  }

  it('fires at every foreign body of minBlobArea pixels, on its columns, when its first row reaches the valves', async () => {
    const frames = capture();
    const decided = await lastValueFrom(
      from(frames.map(fromLabels)).pipe(decideAnomalies({ minArea: 1, connectivity: 8 }), toArray()),
    );
    expect(decided).toHaveLength(8);
    // Planned as the last block's decision comes out, 40 ms after its last line: the early
    // bodies' leading edges have passed the valves.
    const now = t0 + (frames.length * SIM.blockRows - 1) * rowMs + 40;
    let checked = 0;
    let late = 0;
    decided.forEach((d, i) => {
      const plan = planEjects(d, ejector, now);
      const commands = new Map<string, EjectCommand>(
        [...plan.ejects, ...plan.late].map((e) => [e.blobId, e]),
      );
      expect(plan.unreachable).toEqual([]);
      const bodies = foreignBodies(frames[i]!);
      const large = bodies.filter((b) => b.area >= ejector.minBlobArea);
      // One command per large body, nothing else.
      expect(commands.size).toBe(large.length);
      for (const body of large) {
        const index = d.decision.blobs.findIndex(
          (b) => b.x === body.x && b.y === body.y && b.w === body.w && b.h === body.h && b.area === body.area,
        );
        expect(index).toBeGreaterThanOrEqual(0);
        const eject = commands.get(`${d.frameId}:${d.rowOffset}:${index}`);
        expect(eject).toBeDefined();
        // Valves: exactly those over the body's columns.
        const expected = new Set([...body.columns].flatMap(valvesOver));
        expect(new Set(eject!.valves)).toEqual(expected);
        // fireAt: capture time of the body's first row + the travel to the valves.
        const line = d.frameId * SIM.totalRows + body.y;
        const firstRowAt = t0 + line * rowMs;
        expect(eject!.fireAt).toBeCloseTo(firstRowAt + travelMs, 6);
        expect(eject!.budgetMs).toBeCloseTo(firstRowAt + travelMs - now, 6);
        expect(plan.late.includes(eject!)).toBe(firstRowAt + travelMs < now);
        if (firstRowAt + travelMs < now) late++;
        checked++;
      }
    });
    // The scene has enough foreign bodies, some of them too late at this `now`, some not.
    expect(checked).toBeGreaterThanOrEqual(10);
    expect(late).toBeGreaterThan(0);
    expect(late).toBeLessThan(checked);
  });

  it('counts encoder lines of the same bodies from the camera row', async () => {
    const frames = capture();
    const decided = await lastValueFrom(
      from(frames.map(fromLabels)).pipe(decideAnomalies({ minArea: 1 }), toArray()),
    );
    // An encoder-triggered camera, 1000 lines per metre (1 line per row): 0.25 m = 250 lines.
    const encoder = resolveEjectorOptions({
      ...ejector,
      beltSpeedMetresPerSecond: undefined,
      linesPerMetre: 1000,
      fireAtUnit: 'encoder-line',
    });
    let planned = 0;
    decided.forEach((d) => {
      const byMs = planEjects(d, ejector, 0).ejects;
      const byLine = planEjects(d, encoder, 0).ejects;
      expect(byLine.map((e) => e.valves)).toEqual(byMs.map((e) => e.valves));
      byLine.forEach((e, k) => {
        const ms = byMs[k]!;
        // The same row, counted in lines instead of ms since line 0.
        expect(e.fireAt).toBe(Math.round(ms.fireAt - t0));
        expect(e.budgetMs).toBeCloseTo(ms.budgetMs, 6);
        planned++;
      });
    });
    expect(planned).toBeGreaterThan(0);
  });
});
