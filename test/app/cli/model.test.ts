/**
 * `cubestream model push|rollback|ls` against a real `nats-server -js`: a verified bundle is
 * stored once per version as a deterministic ustar archive and a KV key points at it with its
 * previous version; a rollback walks back that history; a bundle whose hashes do not match, a
 * version stored with other contents, and an unreachable server exit 1 with one line; bad
 * command lines exit 2.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelPointer, ModelPointerSchema } from '../../../connectors/shared/model-store.js';
import { runCli } from '../../../src/app/cli/main.js';
import {
  loadVerifiedBundle,
  packBundleArchive,
  readUstar,
  sha256Hex,
  unpackBundleArchive,
  ustar,
} from '../../../src/model/bundle-archive.js';
import { brokersInstalled, freePort, startNatsServer, type TestBroker } from '../../helpers/brokers.js';
import { captureIO } from '../../helpers/capture-io.js';
import { demoBundleAs } from '../../helpers/model-bundles.js';

const skip = !brokersInstalled && process.env.CI !== 'true';
if (skip) console.warn('model CLI tests skipped: /usr/sbin/nats-server is not installed');

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'cubestream-model-cli-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function model(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIO();
  const code = await runCli(['model', ...args], io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('bundle archives', () => {
  it('packs a bundle deterministically into a ustar archive that tar and unpack read back', async () => {
    const dir = await demoBundleAs(root, 'archive-1');
    const first = await packBundleArchive(dir);
    const second = await packBundleArchive(dir);
    expect(first.sha256).toBe(second.sha256);
    expect(first.sha256).toBe(sha256Hex(first.bytes));
    expect([...readUstar(first.bytes).keys()]).toEqual([
      'calibration.json',
      'model-card.json',
      'pipeline.yaml',
      'weights.safetensors',
    ]);
    const tarFile = path.join(root, 'archive-1.tar');
    await writeFile(tarFile, first.bytes);
    const listing = execFileSync('tar', ['-tf', tarFile], { encoding: 'utf8' });
    expect(listing.split('\n').filter(Boolean)).toEqual([...readUstar(first.bytes).keys()]);
    const out = path.join(root, 'unpacked');
    await unpackBundleArchive(first.bytes, out);
    const loaded = await loadVerifiedBundle(out);
    expect(loaded.manifest.version).toBe('archive-1');
    expect(loaded.weightsSha256).toBe(first.bundle.weightsSha256);
  });

  it('refuses an archive with other files, and a bundle whose pipeline.yaml changed after it was saved', async () => {
    const stray = ustar([{ name: 'evil.sh', bytes: new Uint8Array([1, 2, 3]) }]);
    await expect(unpackBundleArchive(stray, path.join(root, 'stray'))).rejects.toThrow(/holds evil.sh/);
    const dir = await demoBundleAs(root, 'edited-1');
    const yaml = await readFile(path.join(dir, 'pipeline.yaml'), 'utf8');
    await writeFile(
      path.join(dir, 'pipeline.yaml'),
      yaml.replace('detector: deep-svdd', 'detector: deep-svdd\n'),
    );
    await expect(loadVerifiedBundle(dir)).rejects.toThrow(
      /pipeline.yaml has SHA-256 .* but model-card.json records/,
    );
  });
});

describe('cubestream model: command line', () => {
  it('exits 2 naming what is wrong', async () => {
    for (const [args, message] of [
      [[], /missing action/],
      [['deploy', '--nats', 'nats://x:1'], /unknown action "deploy"/],
      [['push', '--nats', 'nats://x:1'], /needs the bundle folder/],
      [['rollback', 'dir', '--nats', 'nats://x:1'], /takes no folder/],
      [['ls'], /missing required option --nats/],
      [['ls', '--nats', 'http://x'], /--nats must be nats:\/\/HOST:PORT/],
      [['rollback', '--nats', 'nats://x:1', '--camera', 'a b'], /--camera "a b"/],
      [['rollback', '--nats', 'nats://x:1', '--camera', 'c', '--key', 'k'], /--camera or --key/],
    ] as const) {
      const { code, stderr } = await model([...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(message);
    }
  });

  it('exits 1 with one line when no server answers', async () => {
    const port = await freePort();
    const dir = await demoBundleAs(root, 'unreachable-1');
    const { code, stderr } = await model([
      'push',
      dir,
      '--nats',
      `nats://127.0.0.1:${port}`,
      '--connect-timeout',
      '0.5',
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/no NATS server answered at nats:\/\/127.0.0.1:\d+ within 0.5 s/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe.skipIf(skip)('cubestream model against nats-server -js', () => {
  let nats: TestBroker;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  async function pointerOf(key: string): Promise<{ revision: number; pointer: ModelPointer } | undefined> {
    const kv = await new Kvm(jetstream(nc)).open('CUBESTREAM_MODEL');
    const entry = await kv.get(key);
    return entry === null
      ? undefined
      : { revision: entry.revision, pointer: ModelPointerSchema.parse(entry.json()) };
  }

  it('push stores the archive as <version> and points the key at it; again, it changes nothing', async () => {
    const dir = await demoBundleAs(root, 'line-a-1');
    const archive = await packBundleArchive(dir);
    const pushed = await model(['push', dir, '--nats', nats.url]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toBe(
      `stored line-a-1 (${(archive.bytes.length / 1000).toFixed(1)} kB, sha256 ${archive.sha256.slice(0, 12)}) in CUBESTREAM_MODELS\n` +
        'CUBESTREAM_MODEL default -> line-a-1 (was unset), revision 1\n',
    );
    const stored = await (await new Objm(jetstream(nc)).open('CUBESTREAM_MODELS')).getBlob('line-a-1');
    expect(stored === null ? undefined : sha256Hex(stored)).toBe(archive.sha256);
    expect(await pointerOf('default')).toMatchObject({
      revision: 1,
      pointer: {
        version: 'line-a-1',
        object: 'line-a-1',
        sha256: archive.sha256,
        weightsSha256: archive.bundle.weightsSha256,
        bytes: archive.bytes.length,
        previous: null,
      },
    });
    const again = await model(['push', dir, '--nats', nats.url]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /line-a-1 .* was already in CUBESTREAM_MODELS\nCUBESTREAM_MODEL default already points at line-a-1\n/,
    );
    expect((await pointerOf('default'))?.revision).toBe(1);
  });

  it('push records the previous version; rollback walks back; ls shows versions and keys', async () => {
    const v2 = await demoBundleAs(root, 'line-a-2');
    const v3 = await demoBundleAs(root, 'line-a-3');
    expect((await model(['push', v2, '--nats', nats.url])).stdout).toMatch(
      /CUBESTREAM_MODEL default -> line-a-2 \(was line-a-1\), revision 2/,
    );
    expect((await model(['push', v3, '--nats', nats.url])).code).toBe(0);
    expect((await pointerOf('default'))?.pointer).toMatchObject({
      version: 'line-a-3',
      previous: 'line-a-2',
    });

    const back = await model(['rollback', '--nats', nats.url]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toBe(
      'CUBESTREAM_MODEL default -> line-a-2 (rolled back from line-a-3), revision 4; a further rollback goes to line-a-1\n',
    );
    expect((await pointerOf('default'))?.pointer).toMatchObject({
      version: 'line-a-2',
      previous: 'line-a-1',
      rolledBackFrom: 'line-a-3',
    });
    expect((await model(['rollback', '--nats', nats.url])).stdout).toMatch(
      /-> line-a-1 \(rolled back from line-a-2\)/,
    );
    const end = await model(['rollback', '--nats', nats.url]);
    expect(end.code).toBe(1);
    expect(end.stderr).toMatch(/points at line-a-1, which has no previous version/);

    const camera = await model(['push', v3, '--nats', nats.url, '--camera', 'line3']);
    expect(camera.stdout).toMatch(
      /line-a-3 .* was already in CUBESTREAM_MODELS\nCUBESTREAM_MODEL camera.line3 -> line-a-3 \(was unset\), revision 6\n/,
    );

    const listed = await model(['ls', '--nats', nats.url]);
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.split('\n');
    expect(lines[0]).toBe('versions in CUBESTREAM_MODELS:');
    expect(lines.slice(1, 4).map((line) => line.trim().split(/\s+/)[0])).toEqual([
      'line-a-1',
      'line-a-2',
      'line-a-3',
    ]);
    expect(lines[1]).toMatch(/<- default$/);
    expect(lines[3]).toMatch(/<- camera.line3$/);
    expect(lines[4]).toBe('keys in CUBESTREAM_MODEL:');
    expect(lines[5]).toMatch(/^ {2}camera.line3 +-> line-a-3 \(revision 6, since .*, previous none\)$/);
    expect(lines[6]).toMatch(
      /^ {2}default +-> line-a-1 \(revision 5, since .*, previous none, rolled back from line-a-2\)$/,
    );
    const json = JSON.parse((await model(['ls', '--nats', nats.url, '--json'])).stdout) as {
      models: { object: string }[];
      keys: { key: string; pointer: ModelPointer }[];
    };
    expect(json.models.map((m) => m.object)).toEqual(['line-a-1', 'line-a-2', 'line-a-3']);
    expect(json.keys.map((k) => [k.key, k.pointer.version])).toEqual([
      ['camera.line3', 'line-a-3'],
      ['default', 'line-a-1'],
    ]);
  });

  it('refuses a version stored with other contents, and a bundle that does not verify, storing nothing', async () => {
    const other = await demoBundleAs(path.join(root, 'other'), 'line-a-2', { threshold: 0.5 });
    const refused = await model(['push', other, '--nats', nats.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /version line-a-2 is already stored in CUBESTREAM_MODELS with other contents/,
    );

    const broken = await demoBundleAs(root, 'line-a-9');
    const weights = await readFile(path.join(broken, 'weights.safetensors'));
    weights[weights.length - 1] = (weights[weights.length - 1] ?? 0) ^ 0xff;
    await writeFile(path.join(broken, 'weights.safetensors'), weights);
    const bad = await model(['push', broken, '--nats', nats.url]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/weights.safetensors has SHA-256 .* but model-card.json records/);
    const objects = await (await new Objm(jetstream(nc)).open('CUBESTREAM_MODELS')).list();
    expect(objects.map((o) => o.name).sort()).toEqual(['line-a-1', 'line-a-2', 'line-a-3']);
    expect((await pointerOf('default'))?.pointer.version).toBe('line-a-1');
  });
});
