/**
 * `npm run check:package`: packs cubestream from a fresh build (scripts/pack-package.ts) and lints
 * the tarball with publint (strict: a warning fails too) and @arethetypeswrong/cli (profile
 * `esm-only`: cubestream is an ES module package, so the CommonJS `require` resolutions are not
 * checked; every entry point must resolve to its types under node16/nodenext and bundlers).
 * Exits 1 when either reports a problem.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packPackage, REPO_ROOT } from './pack-package.js';

/** Runs a CLI from node_modules/.bin with inherited output; true when it exits 0. */
function runBin(name: string, args: readonly string[]): boolean {
  const bin = path.join(REPO_ROOT, 'node_modules', '.bin', name);
  const result = spawnSync(bin, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  return result.status === 0;
}

const destination = await mkdtemp(path.join(tmpdir(), 'cubestream-pack-'));
try {
  const { tarball, files } = await packPackage(destination);
  console.log(`check:package: ${path.basename(tarball)}, ${files.length} files`);
  const publint = runBin('publint', ['run', tarball, '--strict']);
  const attw = runBin('attw', [tarball, '--profile', 'esm-only']);
  if (!publint || !attw) {
    console.error(
      `check:package: ${[publint ? '' : 'publint', attw ? '' : 'attw'].filter(Boolean).join(' and ')} failed`,
    );
    process.exitCode = 1;
  }
} finally {
  await rm(destination, { recursive: true, force: true });
}
