/** Named errors of the service wiring: each says which config field, file or port is at fault. */
import { CubestreamError } from '../../core/errors.js';

/** A configured file (TLS certificate, key, CA) that cannot be read; `field` is its YAML path. */
export class ServiceFileError extends CubestreamError {
  /** YAML path of the setting, e.g. `source.tls.caFile`. */
  readonly field: string;

  /**
   * @param field - YAML path of the setting
   * @param file - the path that was configured
   * @param cause - the read error
   */
  constructor(field: string, file: string, cause: unknown) {
    super(
      'service_file',
      `${field}: cannot read ${file} (${cause instanceof Error ? cause.message : String(cause)})`,
      {
        cause,
      },
    );
    this.field = field;
  }
}

/** A TCP port the service needs is taken; `what` names the endpoint (metrics, viewer, embedded broker). */
export class PortInUseError extends CubestreamError {
  /**
   * @param what - the endpoint, e.g. `metrics.port`
   * @param host - interface it was bound to
   * @param port - the port
   */
  constructor(
    readonly what: string,
    host: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super('port_in_use', `${what}: ${host}:${port} is already in use (choose another port)`, options);
  }
}

/** A configured bearer token (`metrics.auth`, `viewer.auth`) that cannot be used; `field` is its YAML path. */
export class AuthTokenError extends CubestreamError {
  /** YAML path of the setting, e.g. `viewer.auth.tokenFile`. */
  readonly field: string;

  /**
   * @param field - YAML path of the setting
   * @param problem - what is wrong with the token
   */
  constructor(field: string, problem: string) {
    super('auth_token', `${field}: ${problem}`);
    this.field = field;
  }
}
