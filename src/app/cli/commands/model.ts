import type { NatsConnection } from '@nats-io/transport-node';
import {
  type KeyedPointer,
  MODEL_STORE_DEFAULTS,
  ModelStore,
  ModelStoreError,
  modelKey,
  type StoredModel,
} from '../../../../connectors/shared/model-store.js';
import { connectNats } from '../../../../connectors/shared/nats-connect.js';
import { CAMERA_ID_RULE, isCameraId } from '../../../core/camera-id.js';
import { type BundleArchive, packBundleArchive } from '../../../model/bundle-archive.js';
import { redactUrl } from '../../../telemetry/redact.js';
import {
  type CliCommand,
  type CliIO,
  type CliValues,
  numberOption,
  stringOption,
  UsageError,
} from '../command.js';

const ACTIONS = ['push', 'rollback', 'ls'] as const;
type Action = (typeof ACTIONS)[number];

function isAction(word: string): word is Action {
  return (ACTIONS as readonly string[]).includes(word);
}

/** The parsed command line of `model`. */
interface ModelArgs {
  readonly action: Action;
  readonly dir: string | undefined;
  readonly nats: string;
  readonly key: string;
  readonly bucket: string;
  readonly store: string;
  readonly json: boolean;
  readonly connectTimeoutMs: number;
}

function parseModelArgs(values: CliValues, positionals: readonly string[]): ModelArgs {
  const [action, dir, ...rest] = positionals;
  if (action === undefined) throw new UsageError(`missing action: ${ACTIONS.join(', ')}`);
  if (!isAction(action)) throw new UsageError(`unknown action "${action}": ${ACTIONS.join(', ')}`);
  if (action === 'push' && dir === undefined)
    throw new UsageError('model push needs the bundle folder: model push DIR');
  if (action !== 'push' && dir !== undefined)
    throw new UsageError(`model ${action} takes no folder, got "${dir}"`);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const nats = stringOption(values, 'nats', true);
  if (!/^(nats|tls):\/\/[^\s/]+$/.test(nats))
    throw new UsageError(`--nats must be nats://HOST:PORT, got ${JSON.stringify(nats)}`);
  const camera = stringOption(values, 'camera');
  const key = stringOption(values, 'key');
  if (camera !== undefined && key !== undefined) throw new UsageError('give --camera or --key, not both');
  if (camera !== undefined && !isCameraId(camera))
    throw new UsageError(`--camera ${JSON.stringify(camera)} ${CAMERA_ID_RULE}`);
  if (key !== undefined && !/^[-/_=.a-zA-Z0-9]+$/.test(key))
    throw new UsageError(`--key ${JSON.stringify(key)}: letters, digits and - / _ = . only`);
  if (action === 'ls' && (camera !== undefined || key !== undefined))
    throw new UsageError('model ls lists every key: no --camera or --key');
  const bucketName = (name: string, fallback: string): string => {
    const value = stringOption(values, name) ?? fallback;
    if (!/^[A-Za-z0-9_-]+$/.test(value))
      throw new UsageError(`--${name} ${JSON.stringify(value)}: letters, digits, _ and - only`);
    return value;
  };
  return {
    action,
    dir,
    nats,
    key: key ?? modelKey(camera),
    bucket: bucketName('bucket', MODEL_STORE_DEFAULTS.bucket),
    store: bucketName('store', MODEL_STORE_DEFAULTS.store),
    json: values.json === true,
    connectTimeoutMs: numberOption(values, 'connect-timeout', 10, { min: 0.1 }) * 1000,
  };
}

/** Connects, retrying until the server answers or the time is up. */
async function connectTo(url: string, timeoutMs: number): Promise<NatsConnection> {
  const deadline = Date.now() + timeoutMs;
  const target = redactUrl(url);
  try {
    return await connectNats(
      { servers: url, name: 'cubestream-model', timeout: Math.min(timeoutMs, 20_000) },
      {
        isClosed: () => Date.now() >= deadline,
        backoff: { initialMs: 250, maxMs: 2_000 },
        fatal: (kind, detail, cause) =>
          new ModelStoreError(
            `${target}: ${kind === 'tls' ? 'TLS failed' : 'refused the credentials'}: ${detail}`,
            { cause },
          ),
      },
    );
  } catch (error) {
    if (error instanceof ModelStoreError) throw error;
    throw new ModelStoreError(
      `no NATS server answered at ${target} within ${timeoutMs / 1000} s (${String(error)})`,
      {
        cause: error,
      },
    );
  }
}

function short(sha: string | undefined): string {
  return sha === undefined ? '?' : sha.slice(0, 12);
}

function kilobytes(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} kB`;
}

async function push(store: ModelStore, archive: BundleArchive, args: ModelArgs, io: CliIO): Promise<number> {
  const result = await store.push(archive, args.key);
  const { pointer } = result;
  if (args.json) {
    io.out(
      `${JSON.stringify({ key: args.key, revision: result.revision ?? null, stored: result.stored, pointer })}\n`,
    );
    return 0;
  }
  const what = `${pointer.version} (${kilobytes(pointer.bytes)}, sha256 ${short(pointer.sha256)})`;
  io.out(
    result.stored ? `stored ${what} in ${store.storeName}\n` : `${what} was already in ${store.storeName}\n`,
  );
  io.out(
    result.revision === undefined
      ? `${store.bucket} ${args.key} already points at ${pointer.version}\n`
      : `${store.bucket} ${args.key} -> ${pointer.version} (was ${pointer.previous ?? 'unset'}), revision ${result.revision}\n`,
  );
  return 0;
}

async function rollback(store: ModelStore, args: ModelArgs, io: CliIO): Promise<number> {
  const { pointer, revision, from } = await store.rollback(args.key);
  if (args.json) {
    io.out(`${JSON.stringify({ key: args.key, revision, pointer })}\n`);
    return 0;
  }
  io.out(
    `${store.bucket} ${args.key} -> ${pointer.version} (rolled back from ${from}), revision ${revision}` +
      `; a further rollback goes to ${pointer.previous ?? 'nothing'}\n`,
  );
  return 0;
}

function renderList(
  store: ModelStore,
  models: readonly StoredModel[],
  keys: readonly KeyedPointer[],
): string {
  const lines = [`versions in ${store.storeName}:`];
  if (models.length === 0) lines.push('  (none)');
  const width = Math.max(0, ...models.map((m) => m.object.length));
  for (const model of models) {
    const users = keys.filter((k) => k.pointer.object === model.object).map((k) => k.key);
    lines.push(
      `  ${model.object.padEnd(width)}  ${kilobytes(model.bytes).padStart(10)}  sha256 ${short(model.sha256)}  stored ${model.storedAt}` +
        (users.length > 0 ? `  <- ${users.join(', ')}` : ''),
    );
  }
  lines.push(`keys in ${store.bucket}:`);
  if (keys.length === 0) lines.push('  (none)');
  const keyWidth = Math.max(0, ...keys.map((k) => k.key.length));
  for (const { key, revision, pointer } of keys) {
    const back = pointer.rolledBackFrom === undefined ? '' : `, rolled back from ${pointer.rolledBackFrom}`;
    lines.push(
      `  ${key.padEnd(keyWidth)}  -> ${pointer.version} (revision ${revision}, since ${pointer.pushedAt}, previous ${pointer.previous ?? 'none'}${back})`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function list(store: ModelStore, args: ModelArgs, io: CliIO): Promise<number> {
  const { models, keys } = await store.list();
  io.out(args.json ? `${JSON.stringify({ models, keys })}\n` : renderList(store, models, keys));
  return 0;
}

/**
 * `cubestream model push|rollback|ls`: model bundles for a fleet of workers on JetStream
 * (docs/model-rollout.md). `push DIR` verifies the bundle (every hash of its model card), stores
 * its archive in the Object Store `CUBESTREAM_MODELS` as object `<version>` and points the key
 * (`default`, or `camera.<id>` with `--camera`) of the KV bucket `CUBESTREAM_MODEL` at it;
 * `rollback` points the key back at the version before; `ls` lists the versions and the keys.
 * Workers with `model.watch` follow their key. Exits 1 with one line when the bundle does not
 * verify, a version is stored with other contents, or no server answers.
 *
 * @example
 * ```sh
 * cubestream model push runs/lentils-2026-12-01/model --nats nats://127.0.0.1:4222
 * cubestream model rollback --nats nats://127.0.0.1:4222 --camera line3
 * cubestream model ls --nats nats://127.0.0.1:4222
 * ```
 */
export const modelCommand: CliCommand = {
  name: 'model',
  summary: 'Push a model bundle to JetStream for the workers, roll back, list (docs/model-rollout.md)',
  usage: `cubestream model push DIR --nats nats://HOST:PORT [--camera ID | --key KEY]
cubestream model rollback --nats nats://HOST:PORT [--camera ID | --key KEY]
cubestream model ls --nats nats://HOST:PORT
  push DIR                 verify the bundle folder (its model card's hashes), store it as object <version>
                           of the Object Store (immutable: other contents under that version are refused)
                           and point the key at it (its previous version recorded)
  rollback                 point the key back at its previous version
  ls                       the stored versions and what each key points at
  --nats nats://HOST:PORT  the NATS server (JetStream enabled)
  --camera ID              the key camera.<ID> (a camera's own model) instead of default
  --key KEY                another key (what model.watch.key names)
  --bucket NAME            KV bucket of the keys (default ${MODEL_STORE_DEFAULTS.bucket})
  --store NAME             Object Store of the bundles (default ${MODEL_STORE_DEFAULTS.store})
  --json                   one JSON line instead of text
  --connect-timeout S      give up (exit 1) when no server answers within S seconds (default 10)
  Workers with model.watch in their run configuration switch to the key's model between two blocks.`,
  allowPositionals: true,
  options: {
    nats: { type: 'string' },
    camera: { type: 'string' },
    key: { type: 'string' },
    bucket: { type: 'string' },
    store: { type: 'string' },
    json: { type: 'boolean' },
    'connect-timeout': { type: 'string' },
  },
  async run({ values, positionals }, io) {
    const args = parseModelArgs(values, positionals);
    // The bundle is checked before any connection: a bad one never reaches the store.
    const archive = args.action === 'push' ? await packBundleArchive(args.dir ?? '') : undefined;
    const nc = await connectTo(args.nats, args.connectTimeoutMs);
    try {
      const store = new ModelStore(nc, { bucket: args.bucket, store: args.store });
      if (archive !== undefined) return await push(store, archive, args, io);
      if (args.action === 'rollback') return await rollback(store, args, io);
      return await list(store, args, io);
    } finally {
      await nc.close();
    }
  },
};
