/**
 * Aravis's fake GigE Vision camera (`arv-fake-gv-camera-0.8`) for tests: real GVCP/GVSP over UDP
 * on 127.0.0.1. Its control port (3956) is fixed, so only ONE can run on a machine: every test
 * that needs it goes through {@link startFakeCamera}, which first takes a cross-process lock (a
 * directory, `/tmp/cubestream-fake-gv.lock`, holding the owner's pid), waiting while another live
 * process holds it and taking over the lock of a dead one (killing its orphaned camera).
 *
 * Test files using it run one after another, so give the hook that starts it a long timeout:
 *
 * @example
 * ```ts
 * describe.skipIf(!fakeCameraInstalled && process.env.CI !== 'true')('with a camera', () => {
 *   let camera: FakeCamera;
 *   beforeAll(async () => { camera = await startFakeCamera({ serial: 'CUBE01' }); }, FAKE_CAMERA_HOOK_TIMEOUT_MS);
 *   afterAll(() => camera.dispose());
 * });
 * ```
 *
 * The camera serves `(x + y + frameId) % 255` in Mono8 and `(256 * (x + y + frameId)) % 65535`
 * in Mono16 (little-endian), both times `1 + gain + log10(exposureUs / 10000)` (1 at the default
 * 10 ms exposure: a shorter exposure darkens it, 1 ms gives all zeros); block ids start at 65400.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { listCameras } from '../../connectors/sources/genicam/discover-cameras.js';

/** Where Debian's aravis-tools installs the fake camera. */
export const FAKE_CAMERA_BIN = '/usr/bin/arv-fake-gv-camera-0.8';
/** Aravis's own acquisition test tool (same package). */
export const ARAVIS_CAMERA_TEST_BIN = '/usr/bin/arv-camera-test-0.8';
/** The cross-process lock (a directory: mkdir is atomic). */
export const FAKE_CAMERA_LOCK = path.join(os.tmpdir(), 'cubestream-fake-gv.lock');
/** The address the fake camera listens on. */
export const FAKE_CAMERA_ADDRESS = '127.0.0.1';
/** Timeout for a hook that starts the camera: it may wait for other test files to finish with it. */
export const FAKE_CAMERA_HOOK_TIMEOUT_MS = 300_000;

function koffiInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('koffi');
    return true;
  } catch {
    return false;
  }
}

/** True when the fake camera (aravis-tools, which brings libaravis) and koffi are installed. */
export const fakeCameraInstalled: boolean = existsSync(FAKE_CAMERA_BIN) && koffiInstalled();

/** A running fake camera the test controls. */
export interface FakeCamera {
  readonly address: '127.0.0.1';
  /** Its serial number; its Aravis device id is `Aravis-Fake-<serial>`. */
  readonly serial: string;
  /** Aravis device id, `Aravis-Fake-<serial>`. */
  readonly id: string;
  /** True while the camera process runs. */
  readonly running: boolean;
  /** Kills the camera process (default SIGKILL: no goodbye to the client); resolves once it exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again (killing it first if it runs); resolves once it answers discovery. */
  restart(): Promise<void>;
  /** Stops it and releases the lock. */
  dispose(): Promise<void>;
}

/** Options of {@link startFakeCamera}. */
export interface FakeCameraOptions {
  /** GVSP packets lost per thousand (`-r`); the fake camera does not resend. */
  readonly lossPerThousand?: number;
  /** Serial number (`-s`, under 16 characters; default `GV01`). */
  readonly serial?: string;
  /** How long to wait for the lock before failing (default 280 s). */
  readonly lockTimeoutMs?: number;
}

interface LockOwner {
  readonly pid: number;
  readonly cameraPid?: number;
}

const OWNER_FILE = 'owner.json';
let heldHere = false;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(dir: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

function writeOwner(owner: LockOwner): void {
  writeFileSync(path.join(FAKE_CAMERA_LOCK, OWNER_FILE), JSON.stringify(owner));
}

/** Kills the camera a dead owner left running, if that pid still is a fake camera. */
function killOrphan(owner: LockOwner): void {
  const pid = owner.cameraPid;
  if (pid === undefined || !processAlive(pid)) return;
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    if (comm.startsWith('arv-fake-gv')) process.kill(pid, 'SIGKILL');
  } catch {
    // Gone meanwhile, or not ours to see.
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function takeLock(timeoutMs: number): Promise<void> {
  if (heldHere) throw new Error('a fake camera already runs in this process: dispose() it first');
  const deadline = Date.now() + timeoutMs;
  let seenWithoutOwner = 0;
  for (;;) {
    try {
      mkdirSync(FAKE_CAMERA_LOCK);
      writeOwner({ pid: process.pid });
      heldHere = true;
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readOwner(FAKE_CAMERA_LOCK);
    // No owner file a while after mkdir: its creator died between mkdir and write.
    seenWithoutOwner = owner === undefined ? seenWithoutOwner + 1 : 0;
    if ((owner !== undefined && !processAlive(owner.pid)) || seenWithoutOwner > 25) {
      const stale = `${FAKE_CAMERA_LOCK}.stale.${process.pid}.${Date.now()}`;
      try {
        renameSync(FAKE_CAMERA_LOCK, stale);
        const moved = readOwner(stale);
        if (moved !== undefined) killOrphan(moved);
        rmSync(stale, { recursive: true, force: true });
      } catch {
        // Another waiter took it over first.
      }
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(
        `the fake GigE Vision camera is held by pid ${owner?.pid ?? '?'} (${FAKE_CAMERA_LOCK}) for over ${timeoutMs} ms`,
      );
    await sleep(200);
  }
}

function releaseLock(): void {
  if (!heldHere) return;
  heldHere = false;
  const owner = readOwner(FAKE_CAMERA_LOCK);
  if (owner?.pid === process.pid) rmSync(FAKE_CAMERA_LOCK, { recursive: true, force: true });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-10).join('\n');
  } catch {
    return '';
  }
}

/**
 * Takes the machine's fake-camera lock, starts `arv-fake-gv-camera-0.8 -i 127.0.0.1`, and
 * resolves once Aravis discovers it with the given serial.
 *
 * @throws when the camera is not installed, the lock stays held past `lockTimeoutMs`, or the camera does not start
 */
export async function startFakeCamera(options: FakeCameraOptions = {}): Promise<FakeCamera> {
  if (!fakeCameraInstalled)
    throw new Error(
      `the fake GigE Vision camera needs ${FAKE_CAMERA_BIN} (apt-get install aravis-tools libaravis-0.8-0) and koffi (npm install)`,
    );
  const serial = options.serial ?? 'GV01';
  const args = ['-i', FAKE_CAMERA_ADDRESS, '-s', serial];
  if (options.lossPerThousand !== undefined) args.push('-r', String(options.lossPerThousand));
  await takeLock(options.lockTimeoutMs ?? 280_000);
  const logPath = path.join(os.tmpdir(), `cubestream-fake-gv-${process.pid}.log`);
  let child: ChildProcess | undefined;
  const isRunning = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const onExit = () => {
    if (isRunning()) child?.kill('SIGKILL');
    releaseLock();
  };
  process.on('exit', onExit);

  const stop = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (proc === undefined || !isRunning()) return;
    const exited = once(proc, 'exit');
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  const start = async () => {
    const log = openSync(logPath, 'w');
    const proc = spawn(FAKE_CAMERA_BIN, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    child = proc;
    if (proc.pid !== undefined) writeOwner({ pid: process.pid, cameraPid: proc.pid });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (!isRunning()) throw new Error(`arv-fake-gv-camera-0.8 exited at start: ${tail(logPath)}`);
      const cameras = await listCameras();
      if (cameras.some((c) => c.address === FAKE_CAMERA_ADDRESS && c.serial === serial)) return;
      if (Date.now() > deadline) {
        await stop('SIGKILL');
        throw new Error(`arv-fake-gv-camera-0.8 -s ${serial} not discovered after 20 s: ${tail(logPath)}`);
      }
      await sleep(100);
    }
  };

  try {
    await start();
  } catch (error) {
    process.off('exit', onExit);
    releaseLock();
    throw error;
  }

  return {
    address: FAKE_CAMERA_ADDRESS,
    serial,
    id: `Aravis-Fake-${serial}`,
    get running() {
      return isRunning();
    },
    kill: (signal: NodeJS.Signals = 'SIGKILL') => stop(signal),
    async restart() {
      await stop('SIGKILL');
      await start();
    },
    async dispose() {
      await stop('SIGTERM');
      process.off('exit', onExit);
      releaseLock();
      rmSync(logPath, { force: true });
    },
  };
}
