/**
 * Throw-away TLS material for broker tests, made with the system's `openssl`: a CA, a server
 * certificate it signs for 127.0.0.1/localhost, and a second CA that trusts nothing of it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of {@link makeTlsFiles}. */
export interface TlsFiles {
  readonly dir: string;
  /** The CA that signed the server certificate. */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Another CA, which did not sign the server certificate. */
  readonly otherCaFile: string;
  dispose(): Promise<void>;
}

async function selfSignedCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert, key };
}

/** Generates a CA, a server certificate for 127.0.0.1 and localhost, and an unrelated CA. */
export async function makeTlsFiles(): Promise<TlsFiles> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-tls-'));
  const [ca, other] = await Promise.all([selfSignedCa(dir, 'test-ca'), selfSignedCa(dir, 'other-ca')]);
  const keyFile = path.join(dir, 'server.key');
  const csr = path.join(dir, 'server.csr');
  const certFile = path.join(dir, 'server.pem');
  const ext = path.join(dir, 'server.ext');
  await writeFile(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await run('openssl', [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    keyFile,
    '-out',
    csr,
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    ext,
    '-out',
    certFile,
  ]);
  return {
    dir,
    caFile: ca.cert,
    certFile,
    keyFile,
    otherCaFile: other.cert,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
