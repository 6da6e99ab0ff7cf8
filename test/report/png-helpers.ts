import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll } from 'vitest';
import { writePng } from '../../src/report/png.js';
import type { RgbaImage } from '../../src/report/rgba-image.js';

/** A temp folder for PNGs, and a way to write an image there and decode it back with pngjs. */
export async function pngWorkspace(): Promise<{
  roundTrip(image: RgbaImage, name: string): Promise<PNG>;
  remove(): Promise<void>;
}> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-report-'));
  return {
    async roundTrip(image, name) {
      const file = path.join(dir, 'nested', name);
      await writePng(file, image.data, image.width, image.height);
      return PNG.sync.read(await readFile(file));
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** RGBA of pixel (x, y) of a decoded PNG. */
export function pngPixel(png: PNG, x: number, y: number): number[] {
  const i = (y * png.width + x) * 4;
  return Array.from(png.data.subarray(i, i + 4));
}

/**
 * Registers a {@link pngWorkspace} for the calling test file (created before all tests, removed
 * after) and returns its round trip: write an image as PNG, decode it back.
 */
export function usePngWorkspace(): (image: RgbaImage, name: string) => Promise<PNG> {
  let workspace: Awaited<ReturnType<typeof pngWorkspace>> | undefined;
  beforeAll(async () => {
    workspace = await pngWorkspace();
  });
  afterAll(async () => {
    await workspace?.remove();
  });
  return (image, name) => {
    if (workspace === undefined) throw new Error('usePngWorkspace: used outside a test');
    return workspace.roundTrip(image, name);
  };
}
