/**
 * A minimal OPC UA client to see what a PLC sees: connects to cubestream's OPC UA server, reads
 * the variables of `Objects/Cameras/<camera>` once a second and prints them as one JSON line.
 *
 * Usage: npx tsx scripts/opcua-watch.ts opc.tcp://127.0.0.1:4840 [--camera cam0] [--count N]
 *          [--user NAME --password SECRET]   (then SignAndEncrypt, Basic256Sha256)
 * The demo's server (`cubestream demo --opcua-port 4840`) takes security None and anonymous.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OPCUACertificateManager } from 'node-opcua';
import {
  MessageSecurityMode,
  OPCUAClient,
  SecurityPolicy,
  type UserIdentityInfo,
  UserTokenType,
} from 'node-opcua-client';
import { CAMERA_VARIABLES } from '../connectors/sinks/opcua/opcua-camera-node.js';
import { OPCUA_SINK_DEFAULTS } from '../connectors/sinks/opcua/opcua-sink-options.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    camera: { type: 'string', default: 'cam0' },
    count: { type: 'string', default: '5' },
    user: { type: 'string' },
    password: { type: 'string' },
  },
});
const endpoint = positionals[0];
if (endpoint === undefined) {
  console.error(
    'usage: npx tsx scripts/opcua-watch.ts opc.tcp://HOST:PORT [--camera cam0] [--count N] [--user U --password P]',
  );
  process.exit(2);
}
const secure = values.user !== undefined;
const pki = new OPCUACertificateManager({
  rootFolder: await mkdtemp(path.join(tmpdir(), 'opcua-watch-')),
  automaticallyAcceptUnknownCertificate: true,
});
await pki.initialize();
const client = OPCUAClient.create({
  applicationName: 'cubestream-opcua-watch',
  securityMode: secure ? MessageSecurityMode.SignAndEncrypt : MessageSecurityMode.None,
  securityPolicy: secure ? SecurityPolicy.Basic256Sha256 : SecurityPolicy.None,
  endpointMustExist: false,
  clientCertificateManager: pki,
  connectionStrategy: { maxRetry: 1, initialDelay: 200, maxDelay: 1000 },
});
await client.connect(endpoint);
const identity: UserIdentityInfo = secure
  ? { type: UserTokenType.UserName, userName: values.user ?? '', password: values.password ?? '' }
  : { type: UserTokenType.Anonymous };
const session = await client.createSession(identity);
const namespaces = (await session.readNamespaceArray()) as string[];
const ns = namespaces.indexOf(OPCUA_SINK_DEFAULTS.namespaceUri);
const names = Object.keys(CAMERA_VARIABLES);
for (let i = 0; i < Number(values.count); i++) {
  const read = await session.read(
    names.map((name) => ({ nodeId: `ns=${ns};s=Cameras.${values.camera}.${name}` })),
  );
  const line: Record<string, unknown> = {};
  names.forEach((name, k) => {
    const value = read[k]?.value.value as unknown;
    line[name] = value instanceof Date ? value.toISOString() : value;
  });
  console.log(JSON.stringify(line));
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
await session.close();
await client.disconnect();
