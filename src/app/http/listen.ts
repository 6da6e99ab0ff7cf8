/**
 * Binding the service's HTTP servers (telemetry, viewer): the default interface, listening, and
 * the address actually bound as logs and banners print it.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Interface the HTTP servers bind unless configured: loopback only. */
export const DEFAULT_HTTP_HOST = '127.0.0.1';

/** Where a server listens, read back from `server.address()`. */
export interface BoundAddress {
  /** The bound interface, e.g. `127.0.0.1`, `0.0.0.0`, `::`. */
  readonly host: string;
  /** The bound port (the ephemeral one when asked for port 0). */
  readonly port: number;
  /** `host:port` as bound (IPv6 in brackets), e.g. `0.0.0.0:9464`. */
  readonly address: string;
  /** `http://<host>:<port>` reachable from this machine (`127.0.0.1` for a wildcard bind). */
  readonly url: string;
}

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The address a listening server is bound to.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * const server = http.createServer();
 * await listenOn(server, 9464, '0.0.0.0');
 * boundAddress(server); // { host: '0.0.0.0', port: 9464, address: '0.0.0.0:9464', url: 'http://127.0.0.1:9464' }
 * ```
 */
export function boundAddress(server: Server): BoundAddress {
  const info = server.address() as AddressInfo;
  const wildcard = info.address === '0.0.0.0' || info.address === '::';
  const urlHost = wildcard ? '127.0.0.1' : info.address;
  return {
    host: info.address,
    port: info.port,
    address: `${bracketed(info.address)}:${info.port}`,
    url: `http://${bracketed(urlHost)}:${info.port}`,
  };
}

/** Starts listening; rejects with the server's error (e.g. `EADDRINUSE`). */
export function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
