/**
 * Model bundles for the model rollout tests: the demo bundle saved again under another version
 * with `saveBundle` (so every hash of its model card stays valid), and a bundle of another band
 * count.
 */
import path from 'node:path';
import { resolveDemoModelDir } from '../../src/app/service/demo-settings.js';
import { type Calibration, loadBundle, saveBundle } from '../../src/model/bundle.js';
import { tinyDeepSvddBundle } from './tiny-model.js';

/**
 * The demo bundle as `<root>/<version>` with that manifest version (and optionally another
 * calibration); returns the folder.
 */
export async function demoBundleAs(
  root: string,
  version: string,
  calibration?: Partial<Calibration>,
): Promise<string> {
  const demo = await loadBundle(resolveDemoModelDir());
  const dir = path.join(root, version);
  await saveBundle(dir, {
    manifest: { ...demo.manifest, version },
    weights: demo.weights,
    calibration: { ...demo.calibration, ...calibration },
    card: demo.card,
  });
  return dir;
}

/** A valid bundle of 8 bands (700-840 nm), where the demo model takes 61: `<root>/<version>`. */
export async function eightBandBundle(root: string, version: string): Promise<string> {
  const dir = path.join(root, version);
  await saveBundle(dir, tinyDeepSvddBundle(4, version));
  return dir;
}
