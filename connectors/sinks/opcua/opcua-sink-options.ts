/**
 * The settings of `OpcuaDecisionSink` with their defaults: the one home of those defaults (the
 * sink parses its options with {@link parseOpcuaSinkOptions}; a run configuration's
 * `sinks.opcua` section is {@link opcuaSinkOptionsSchema}). Every endpoint uses the security
 * policy Basic256Sha256 ({@link OPCUA_SECURITY_POLICY}); `None` adds an unsecured endpoint.
 */

import { z } from 'zod';
import { CAMERA_ID_PATTERN, CAMERA_ID_RULE } from '../../../src/core/camera-id.js';
import type { EjectCommand } from '../../../src/core/eject.js';
import { OptionError, valueAtPath } from '../../../src/core/options.js';
import { PositiveInt, sinkComponent } from '../sink-options.js';

/** The one security policy of the signed and encrypted endpoints (OPC UA `Basic256Sha256`). */
export const OPCUA_SECURITY_POLICY = 'Basic256Sha256';

/** An OPC UA message security mode; `None` is an unsecured endpoint (demo, trusted networks). */
export const OpcuaSecurityModeSchema = z.enum(['None', 'Sign', 'SignAndEncrypt']);

/** One of {@link OpcuaSecurityModeSchema}'s modes. */
export type OpcuaSecurityMode = z.infer<typeof OpcuaSecurityModeSchema>;

/** A user allowed to open a session (OPC UA UserName identity token). */
export const OpcuaUserSchema = z
  .strictObject({
    /** Login name. */
    username: z.string().min(1),
    /** Password; compared in constant time. Or `passwordFile`. */
    password: z.string().min(1).optional(),
    /**
     * A file holding the password (a mounted secret; one trailing newline dropped), read by
     * `cubestream run` at start into `password`, so the password is not in the config.
     */
    passwordFile: z.string().min(1).optional(),
  })
  .refine((user) => (user.password === undefined) !== (user.passwordFile === undefined), {
    message: 'password or passwordFile, one of them',
  });

/** A user of the OPC UA server (see {@link OpcuaUserSchema}). */
export type OpcuaUser = z.infer<typeof OpcuaUserSchema>;

/** A camera id; it becomes a browse name and a string node id (`s=Cameras.<cameraId>`). */
const CameraIdSchema = z.string().regex(CAMERA_ID_PATTERN, CAMERA_ID_RULE);

/** Every setting of the OPC UA decision sink, each with its default. */
export const opcuaSinkOptionsSchema = z.strictObject({
  /** TCP port of the `opc.tcp://` endpoint; default 4840 (the IANA port of OPC UA). */
  port: PositiveInt.max(65_535).default(4840),
  /** Address to listen on; default all interfaces. */
  host: z.string().min(1).optional(),
  /**
   * Security modes offered, each with the policy Basic256Sha256 (`None` offers an unsecured
   * endpoint); default `['SignAndEncrypt']`.
   */
  securityModes: z.array(OpcuaSecurityModeSchema).min(1).default(['SignAndEncrypt']),
  /**
   * Folder of the server's PKI: `own/certs/certificate.pem` and `own/private/private_key.pem`
   * (a self-signed certificate, valid 10 years, is generated there on first start unless
   * `certificateFile`/`privateKeyFile` are given), `trusted/certs` (client certificates
   * accepted), `rejected/` (client certificates refused), `issuers/`, and `users/` (a PKI of
   * the same layout for X509 user identity tokens, which trusts none until an operator adds
   * one); default `./pki/opcua`.
   */
  pkiDir: z.string().min(1).default('./pki/opcua'),
  /** PEM certificate of the server, instead of the generated one (with `privateKeyFile`); default none. */
  certificateFile: z.string().min(1).optional(),
  /** PEM private key of `certificateFile` (not encrypted); default none. */
  privateKeyFile: z.string().min(1).optional(),
  /** Users allowed to open a session with a username and password; default none. */
  users: z.array(OpcuaUserSchema).default([]),
  /** Accept anonymous sessions; default false (then at least one user is required). */
  allowAnonymous: z.boolean().default(false),
  /**
   * The server's application URI: in its certificate's SAN and the name of namespace 1; default
   * `urn:cubestream:opcua`. Fixed, so it does not change with the hostname.
   */
  applicationUri: z.string().min(1).default('urn:cubestream:opcua'),
  /**
   * More hostnames or IP addresses advertised in the endpoint URLs and the generated certificate
   * (a PLC often cannot resolve the host's FQDN: add the IP it dials); default none.
   */
  alternateHostnames: z.array(z.string().min(1)).default([]),
  /**
   * URI of the namespace holding `Cameras/…` and the event types; default `urn:cubestream`.
   * Clients resolve its index from the NamespaceArray (it is usually 2 but may move): keep it fixed.
   */
  namespaceUri: z.string().min(1).default('urn:cubestream'),
  /**
   * Trust every client certificate on first use; default false. When false, an untrusted
   * client is refused (`BadSecurityChecksFailed`) and its certificate lands in
   * `<pkiDir>/rejected/`; move that file to `<pkiDir>/trusted/certs/` to trust the client.
   */
  automaticallyAcceptUnknownCertificate: z.boolean().default(false),
  /** Cameras whose nodes exist from the start (others appear on their first decision); default none. */
  cameraIds: z.array(CameraIdSchema).default([]),
  /** Most cameras in the address space; a decision for one more is dropped and counted. Default 64. */
  maxCameras: PositiveInt.max(10_000).default(64),
  /** Period of the `Heartbeat` counter of every camera, ms; default 1000. */
  heartbeatMs: PositiveInt.default(1000),
});

/** What an `EjectEventType` event carries of an eject command (`OpcuaDecisionSink.raiseEject`). */
export type OpcuaEject = Pick<EjectCommand, 'frameId' | 'blobId' | 'valves' | 'fireAt'>;

/** OPC UA sink options as written (defaults may be left out). */
export type OpcuaSinkOptionsInput = z.input<typeof opcuaSinkOptionsSchema>;

/** OPC UA sink options with their defaults filled in. */
export type OpcuaSinkSettings = z.output<typeof opcuaSinkOptionsSchema>;

/** The defaults of {@link opcuaSinkOptionsSchema}: the schema parsed from `{}`. */
export const OPCUA_SINK_DEFAULTS = opcuaSinkOptionsSchema.parse({});

/**
 * Validates OPC UA sink options and fills in the defaults.
 *
 * @param sink - sink name, for the error
 * @throws `OptionError` naming the first option at fault, e.g.
 *   `opcua sink option users = array(0): at least one user when allowAnonymous is false`
 * @example
 * ```ts
 * declare const secret: string; // e.g. read from a mounted secret file
 * const settings = parseOpcuaSinkOptions({ users: [{ username: 'plc', password: secret }] });
 * settings.port; // 4840
 * ```
 */
export function parseOpcuaSinkOptions(input: OpcuaSinkOptionsInput, sink = 'opcua'): OpcuaSinkSettings {
  const component = sinkComponent(sink);
  const result = opcuaSinkOptionsSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path ?? [];
    const secret = path.includes('password');
    throw new OptionError(
      component,
      path.map(String).join('.') || '(options)',
      secret ? '[redacted]' : valueAtPath(input, path),
      issue?.message ?? 'invalid',
    );
  }
  const settings = result.data;
  if (settings.users.length === 0 && !settings.allowAnonymous) {
    throw new OptionError(
      component,
      'users',
      settings.users,
      'at least one user when allowAnonymous is false (else no client could open a session)',
    );
  }
  if ((settings.certificateFile === undefined) !== (settings.privateKeyFile === undefined)) {
    throw new OptionError(
      component,
      settings.certificateFile === undefined ? 'certificateFile' : 'privateKeyFile',
      undefined,
      'certificateFile and privateKeyFile go together',
    );
  }
  const unread = settings.users.find((user) => user.password === undefined);
  if (unread !== undefined) {
    throw new OptionError(
      component,
      'users',
      unread.username,
      `a password: passwordFile ${String(unread.passwordFile)} is read by cubestream run, not by the sink`,
    );
  }
  const names = settings.users.map((user) => user.username);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) {
    throw new OptionError(component, 'users', duplicate, 'each username at most once');
  }
  if (settings.cameraIds.length > settings.maxCameras) {
    throw new OptionError(
      component,
      'cameraIds',
      settings.cameraIds,
      `at most maxCameras (${settings.maxCameras}) cameras`,
    );
  }
  return settings;
}
