/**
 * Packs cubestream as `npm pack` would, from a fresh build: the repository's `package.json`,
 * `README.md` and every non-`dist` path of its `files` list are copied into a staging folder, the
 * sources are compiled there (`tsc -p tsconfig.build.json`, the `build` script, with its `outDir`
 * moved into the staging folder), and `npm pack` packs it. The repository's own `dist/` is neither
 * read nor written, so stale files there never reach the tarball and tests that run from `dist/`
 * meanwhile are not disturbed.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * This process's environment without npm's `npm_config_*` variables, for an npm started here:
 * under `npm run` or `npm test` they name the repository as the project (`npm_config_local_prefix`),
 * and an `npm pack` or `npm install` meant for another folder would act on the repository instead.
 */
export function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_config_')),
  );
}

/** The packed package: where its tarball is and the paths it holds. */
export interface PackedPackage {
  /** Absolute path of the `.tgz`. */
  readonly tarball: string;
  /** Paths inside the package (`package.json`, `dist/src/index.js`, …), as `npm pack` lists them. */
  readonly files: readonly string[];
}

/** The part of `npm pack --json`'s answer read here. */
interface NpmPackReport {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

/** The paths of `files` copied from the repository as they are (everything but the build output). */
async function sourcePaths(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    files?: readonly string[];
  };
  const kept = (pkg.files ?? []).filter((entry) => !entry.startsWith('!') && !entry.startsWith('dist'));
  return ['package.json', 'README.md', ...kept];
}

/**
 * Builds and packs cubestream into `destination` (created by the caller).
 *
 * @example
 * ```ts
 * const { tarball } = await packPackage(await mkdtemp(path.join(tmpdir(), 'pack-')));
 * ```
 */
export async function packPackage(destination: string): Promise<PackedPackage> {
  const staging = await mkdtemp(path.join(tmpdir(), 'cubestream-stage-'));
  try {
    for (const entry of await sourcePaths()) {
      await cp(path.join(REPO_ROOT, entry), path.join(staging, entry), { recursive: true });
    }
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(staging, 'dist')], {
      cwd: REPO_ROOT,
    });
    const { stdout } = await run(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', destination],
      { cwd: staging, env: npmEnv(), maxBuffer: 64 * 1024 * 1024 },
    );
    const [report] = JSON.parse(stdout) as NpmPackReport[];
    if (report === undefined) throw new Error(`npm pack printed no report: ${stdout}`);
    return { tarball: path.join(destination, report.filename), files: report.files.map((f) => f.path) };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
