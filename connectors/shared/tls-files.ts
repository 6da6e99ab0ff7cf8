/**
 * The one way the broker connectors load TLS files: the PEM files a config names (`caFile`,
 * `certFile`, `keyFile`) are read once, when the source is built or the sink connects, and a file
 * that cannot be read stops it with a {@link TlsFileError} naming the setting and the file.
 */
import { readFileSync } from 'node:fs';
import { asError, CubestreamError } from '../../src/core/errors.js';

/** TLS settings of a broker connection as configured: paths of PEM files. */
export interface TlsFileOptions {
  /** PEM file of the CA(s) that signed the broker's certificate. */
  caFile?: string | undefined;
  /** PEM client certificate (mutual TLS). */
  certFile?: string | undefined;
  /** PEM private key of the client certificate. */
  keyFile?: string | undefined;
  /** Verify the broker's certificate; default true. */
  rejectUnauthorized?: boolean | undefined;
}

/** The files of a {@link TlsFileOptions}, read: what a TLS client (mqtt.js, Node's `tls`) takes. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

/** A TLS file named in a config that cannot be read (missing, a folder, no permission). */
export class TlsFileError extends CubestreamError {
  /** The setting, e.g. `tls.caFile`. */
  readonly option: string;
  /** The path that was configured. */
  readonly file: string;

  /**
   * @param owner - the connector, e.g. `mqtt source`, `mqtt sink`
   * @param option - the setting, e.g. `tls.caFile`
   * @param file - the configured path
   * @param cause - the read error
   */
  constructor(owner: string, option: string, file: string, cause: unknown) {
    super('tls_file', `${owner}: ${option}: cannot read ${file} (${asError(cause).message})`, { cause });
    this.option = option;
    this.file = file;
  }
}

const FILE_FIELDS = ['caFile', 'certFile', 'keyFile'] as const;
const MATERIAL_OF = { caFile: 'ca', certFile: 'cert', keyFile: 'key' } as const;

/**
 * Reads the PEM files of a TLS section; `rejectUnauthorized` defaults to true.
 *
 * @param owner - the connector, for the error message, e.g. `mqtt source`
 * @throws {@link TlsFileError} naming the setting and file that cannot be read
 * @example
 * ```ts
 * import mqtt from 'mqtt';
 * mqtt.connect('mqtts://broker:8883', { ...readTlsFiles({ caFile: '/etc/cubestream/ca.pem' }, 'mqtt source') });
 * ```
 */
export function readTlsFiles(tls: TlsFileOptions, owner: string): TlsMaterial {
  const material: TlsMaterial = { rejectUnauthorized: tls.rejectUnauthorized ?? true };
  for (const field of FILE_FIELDS) {
    const file = tls[field];
    if (file === undefined) continue;
    try {
      material[MATERIAL_OF[field]] = readFileSync(file);
    } catch (error) {
      throw new TlsFileError(owner, `tls.${field}`, file, error);
    }
  }
  return material;
}

/**
 * Fails fast on a TLS file that cannot be read, for a client that reads the files itself on
 * every connection (the NATS client: a renewed certificate is picked up when it reconnects).
 * Without it, such a client retries an unreadable file as if the server were down.
 *
 * @param owner - the connector, for the error message, e.g. `nats sink`
 * @throws {@link TlsFileError} naming the setting and file that cannot be read
 */
export function checkTlsFiles(tls: TlsFileOptions, owner: string): void {
  readTlsFiles(tls, owner);
}
