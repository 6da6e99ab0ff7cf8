/**
 * The demo's embedded MQTT broker (`aedes`, MQTT 3.1.1 only: the MQTT sink falls back to 3.1.1
 * by itself), and the port probe that decides between starting it and using the broker that
 * already listens there.
 */
import { once } from 'node:events';
import net from 'node:net';
import { Aedes } from 'aedes';
import { PortInUseError } from './service-errors.js';

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** `mqtt://host:port`. */
  readonly url: string;
  readonly port: number;
  /** Clients connected right now. */
  readonly clients: number;
  /** Disconnects every client and stops listening. */
  close(): Promise<void>;
}

/**
 * True when nothing listens on `host:port` (a bind succeeds). Port 0 is always free.
 *
 * @example
 * ```ts
 * await isPortFree('127.0.0.1', 1883); // false where mosquitto runs
 * ```
 */
export async function isPortFree(host: string, port: number): Promise<boolean> {
  if (port === 0) return true;
  const server = net.createServer();
  try {
    server.listen(port, host);
    await once(server, 'listening');
    server.close();
    await once(server, 'close');
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts aedes on `host:port` (port 0: a free one).
 *
 * @throws {@link PortInUseError} when the port is taken
 * @example
 * ```ts
 * const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 1883 });
 * // mosquitto_sub -h 127.0.0.1 -t 'cubestream/#' -v
 * await broker.close();
 * ```
 */
export async function startEmbeddedBroker(options: { host: string; port: number }): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError('embedded MQTT broker', options.host, options.port, { cause: error });
    }
    throw error;
  }
  const port = (server.address() as net.AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `mqtt://${host}:${port}`,
    port,
    get clients() {
      return broker.connectedClients;
    },
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
