import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/app/config/load-config.js';
import { trainingStages } from '../../src/train/operator-stages.js';
import { evaluateScene } from '../../src/train/scene-eval.js';
import {
  SCENE_DEFAULT_CONFIG,
  SCENE_REFERENCE_CONFIG,
  TrainrunSchema,
} from '../../src/train/trainrun-schema.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sharedData = path.resolve(repoRoot, '../shared/data');
// abu-urban-5: the scene where the default comes closest to RX (docs/evaluation.md).
const scene = path.join(sharedData, 'abu-urban-5');
const present = existsSync(path.join(scene, 'cube.hdr'));
if (!present && process.env.CI !== 'true') {
  console.warn(`skipping the issue-5 real-scene test: ${sharedData} is missing`);
}

describe('the default scene config (issue 5)', () => {
  it('is the one configs/trainrun/scene_default.yaml holds, and differs from the reference', async () => {
    const file = await loadConfigFile(
      TrainrunSchema,
      path.join(repoRoot, 'configs/trainrun/scene_default.yaml'),
      [],
    );
    expect(file).toEqual(SCENE_DEFAULT_CONFIG);
    expect(SCENE_DEFAULT_CONFIG.model.whiten).toEqual({ components: 30, trim: 0.02 });
    expect(SCENE_REFERENCE_CONFIG.model.whiten).toBeNull();
  });

  // CI must have the data: there the test fails instead of skipping.
  describe.skipIf(!present && process.env.CI !== 'true')('on a real ABU scene', () => {
    it('scores abu-urban-5 no more than 0.01 AUROC below global RX', async () => {
      const result = await evaluateScene(scene, SCENE_DEFAULT_CONFIG, { stages: trainingStages });
      const deep = result.detectors['deep-svdd'];
      const rx = result.detectors.rx;
      expect(rx.auroc).toBeCloseTo(0.9692, 3);
      expect(deep.auroc).toBeGreaterThan(rx.auroc - 0.01);
      // The statistical init alone gives 0.9614 here (the numpy prototype, too).
      expect(deep.auroc).toBeGreaterThan(0.955);
    }, 60_000);
  });
});
