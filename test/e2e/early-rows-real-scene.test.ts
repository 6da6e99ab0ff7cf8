import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, type Observable, type OperatorFunction, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { enviReplay } from '../../connectors/sources/envi-replay.js';
import { fusedDeepSvddScore } from '../../operators/fused-deep-svdd-score.js';
import { fusedRxScore } from '../../operators/fused-rx-score.js';
import type { CubeFrame } from '../../src/core/frame.js';
import type { RowsReady } from '../../src/core/rows-ready.js';
import type { ScoredFrame } from '../../src/core/scored-frame.js';
import { type DeepSvddParams, initProjection } from '../../src/model/deep-svdd-params.js';
import { RunningStats } from '../../src/model/running-stats.js';
import { fitRx, RxStats } from '../../src/model/rx-stats.js';
import { createChunkRunner } from '../../src/scoring/onnx/create-chunk-runner.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sharedData = path.resolve(repoRoot, '../shared/data');
const scene = path.join(sharedData, 'abu-urban-2', 'cube.hdr');
const present = existsSync(scene);
const required = process.env.CI === 'true';
if (!present && !required) console.warn(`skipping the real-scene early-rows test: ${sharedData} is missing`);

type Scorer = (rows: Observable<RowsReady>) => OperatorFunction<CubeFrame, ScoredFrame>;

/** Replays the scene in 50-line blocks through `scorer`: paced (its rows published as they arrive), or as fast as possible. */
async function replay(scorer: Scorer, paced: boolean): Promise<ScoredFrame[]> {
  const source = enviReplay({ path: scene, blockRows: 50, ...(paced ? { linesPerSecond: 500 } : {}) });
  const rows = paced ? source.rows : new Subject<RowsReady>(); // unpaced: no rows ever come
  if (rows === undefined) throw new Error('enviReplay publishes no rows');
  return lastValueFrom(source.frames.pipe(scorer(rows), toArray()));
}

describe.skipIf(!present && !required)(
  'early rows on a real scene (abu-urban-2, 100 x 100 x 207 int16)',
  () => {
    it('scores the rows of a paced replay as they arrive, bit for bit as whole blocks: RX and Deep SVDD', async () => {
      expect(present, `${scene} is missing (required in CI)`).toBe(true);
      const frames = await lastValueFrom(enviReplay({ path: scene }).frames.pipe(toArray()));
      const first = frames[0] as CubeFrame;
      const rxStats = new RxStats(first.bands);
      const zStats = new RunningStats(first.bands);
      for (const frame of frames) {
        rxStats.add(frame.data);
        zStats.add(frame.data, first.bands);
      }
      const rx = fitRx(rxStats);
      const params: DeepSvddParams = {
        wavelengthsNm: first.wavelengths,
        wavelengthUnits: 'index',
        unitNorm: false,
        zscore: zStats.toZscore(),
        project: initProjection(first.bands, { seed: 3, hidden: 32, rep: 8 }),
        center: new Float32Array(8),
      };
      let early = 0;
      const onScored = (s: { earlyPixels: number }) => {
        early += s.earlyPixels;
      };
      // Workers started before the replays, as a service's scorer is warmed before its camera opens.
      const runner = createChunkRunner();
      await runner.ready();
      const rxScorer: Scorer = (rows) => fusedRxScore(rx, { runner, earlyRows: rows, onScored });
      const svddScorer: Scorer = (rows) =>
        fusedDeepSvddScore(params, { centerMode: 'ema', alpha: 0.1, runner, earlyRows: rows, onScored });

      for (const scorer of [rxScorer, svddScorer]) {
        const whole = await replay(scorer, false);
        expect(early).toBe(0);
        const paced = await replay(scorer, true);
        // 50 lines of 100 px at 500 lines/s: 1,024-px chunks scored as they arrive, the rest with the frame.
        expect(early).toBeGreaterThan(0.3 * 100 * 100);
        expect(paced.map((f) => [f.rowOffset, f.height])).toEqual([
          [0, 50],
          [50, 50],
        ]);
        for (const [i, frame] of paced.entries()) expect(frame.scores).toEqual(whole[i]?.scores);
        early = 0;
      }
      await runner.close();
    });
  },
);
