import { seededRandom } from '../../src/model/seeded-random.js';

/**
 * `n` smooth, noisy pixels of `channels` bands (band i ~ sin(i)·wave + uniform noise), seeded:
 * the training batches of the trainer and step tests.
 */
export function smoothPixels(
  n: number,
  channels: number,
  seed: number,
  wave = 0.4,
  noise = 0.3,
): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(n * channels);
  for (let i = 0; i < out.length; i++) out[i] = Math.sin(i % channels) * wave + (random() - 0.5) * noise;
  return out;
}
