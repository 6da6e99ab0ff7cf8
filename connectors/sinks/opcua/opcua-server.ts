/**
 * Builds the node-opcua server of the OPC UA sink from its settings: the PKI (own certificate,
 * trusted and rejected client certificates), the endpoints (Basic256Sha256 in the configured
 * modes), and the user check. The address space is filled by the caller between
 * {@link createOpcuaServer} and `server.start()`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type * as NodeOpcua from 'node-opcua';
import { TlsFileError } from '../../shared/tls-files.js';
import type { OpcuaSinkSettings, OpcuaUser } from './opcua-sink-options.js';

/** The node-opcua module, loaded on demand (`await import('node-opcua')`). */
export type NodeOpcuaModule = typeof NodeOpcua;

/** What the OPC UA server reports as its product. */
const PRODUCT = { productUri: 'urn:cubestream', productName: 'cubestream', manufacturerName: 'cubestream' };

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Whether `username`/`password` match one of `users`; every user is compared, in constant time,
 * so the answer takes as long for a known name as for an unknown one.
 */
export function isValidOpcuaUser(users: readonly OpcuaUser[], username: string, password: string): boolean {
  const name = digest(username);
  const secret = digest(password);
  let valid = false;
  for (const user of users) {
    const nameOk = timingSafeEqual(name, digest(user.username));
    // A user without a password (its file not read) never matches, in the same time.
    const secretOk = timingSafeEqual(secret, digest(user.password ?? ''));
    valid = (nameOk && secretOk && user.password !== undefined) || valid;
  }
  return valid;
}

/**
 * Throws {@link TlsFileError} unless the configured certificate and key can be read: node-opcua
 * would otherwise generate a self-signed certificate at a mistyped `certificateFile` path.
 */
function assertReadable(settings: OpcuaSinkSettings, sink: string): void {
  for (const option of ['certificateFile', 'privateKeyFile'] as const) {
    const file = settings[option];
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (error) {
      throw new TlsFileError(`${sink} sink`, option, file, error);
    }
  }
}

/**
 * Creates and initialises (PKI, certificate, address space) an OPC UA server; it does not
 * listen until `server.start()`.
 *
 * X509 user identity tokens: node-opcua advertises them on every secured endpoint and, without
 * a `userCertificateManager`, checks them against a shared store under `~/.config` that trusts
 * every certificate, which would let any client log in without a password. The store here is
 * `<pkiDir>/users`, which trusts none unless an operator puts a certificate in its
 * `trusted/certs/`.
 *
 * @param opcua - the node-opcua module
 * @param settings - the sink's settings
 * @param softwareVersion - reported in the server's BuildInfo (the model version, say)
 * @param sink - the sink's name, for errors
 * @throws `TlsFileError` when `certificateFile` or `privateKeyFile` cannot be read
 */
export async function createOpcuaServer(
  opcua: NodeOpcuaModule,
  settings: OpcuaSinkSettings,
  softwareVersion: string,
  sink: string,
): Promise<NodeOpcua.OPCUAServer> {
  assertReadable(settings, sink);
  const serverCertificateManager = new opcua.OPCUACertificateManager({
    name: 'cubestream-opcua',
    rootFolder: settings.pkiDir,
    automaticallyAcceptUnknownCertificate: settings.automaticallyAcceptUnknownCertificate,
  });
  const userCertificateManager = new opcua.OPCUACertificateManager({
    name: 'cubestream-opcua-users',
    rootFolder: path.join(settings.pkiDir, 'users'),
    automaticallyAcceptUnknownCertificate: false,
  });
  const users = settings.users;
  try {
    await serverCertificateManager.initialize();
    const server = new opcua.OPCUAServer({
      port: settings.port,
      ...(settings.host === undefined ? {} : { host: settings.host }),
      serverCertificateManager,
      userCertificateManager,
      ...(settings.certificateFile === undefined
        ? {}
        : { certificateFile: settings.certificateFile, privateKeyFile: settings.privateKeyFile }),
      alternateHostname: [...settings.alternateHostnames],
      serverInfo: {
        applicationUri: settings.applicationUri,
        productUri: PRODUCT.productUri,
        applicationName: { text: 'cubestream', locale: 'en' },
      },
      buildInfo: {
        productName: PRODUCT.productName,
        productUri: PRODUCT.productUri,
        manufacturerName: PRODUCT.manufacturerName,
        softwareVersion,
      },
      securityModes: settings.securityModes.map((mode) => opcua.MessageSecurityMode[mode]),
      securityPolicies: [opcua.SecurityPolicy.Basic256Sha256],
      allowAnonymous: settings.allowAnonymous,
      // 0: a monitored item asking samplingInterval 0 gets every change of a variable, not the
      // last one of each 100 ms window (node-opcua's default coalesces exception-based items).
      serverCapabilities: { minSupportedSampleRate: 0 },
      userManager: {
        isValidUser: (username: string, password: string) => isValidOpcuaUser(users, username, password),
      },
    });
    await server.initialize();
    return server;
  } catch (error) {
    // Their folder watchers would keep the process alive.
    await Promise.allSettled([serverCertificateManager.dispose(), userCertificateManager.dispose()]);
    throw error;
  }
}
