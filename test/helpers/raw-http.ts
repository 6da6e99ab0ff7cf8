/**
 * Raw HTTP/1.1 over a TCP socket, for tests of misbehaving clients: a client that sends its GET
 * and then never reads, and a way to read its status line later.
 */
import net from 'node:net';

/** A client that sent a GET and reads nothing until {@link readHead} is called. */
export interface StalledClient {
  readonly socket: net.Socket;
  /** Resolves true once connected and the request is written, false when the connection failed. */
  readonly sent: Promise<boolean>;
}

/** Connects to `127.0.0.1:port`, sends `GET path` with `headers`, and stops reading (paused). */
export function stalledGet(port: number, path: string, headers: Record<string, string> = {}): StalledClient {
  const socket = net.connect(port, '127.0.0.1');
  socket.pause();
  // A connection the server closes at once (over maxConnections) may be reset: not an error here.
  socket.on('error', () => undefined);
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  const sent = new Promise<boolean>((resolve) => {
    socket.once('connect', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`, (error) => resolve(!error)));
    socket.once('close', () => resolve(false));
  });
  return { socket, sent };
}

/** What {@link readHead} found: the status (0 when the connection closed without a response) and the head. */
export interface ResponseHead {
  readonly status: number;
  /** The status line and header lines, lower-cased names, as received. */
  readonly head: string;
}

/**
 * Resumes a socket and reads until the end of the response head, or until it closes; then
 * stops reading again (the caller destroys the socket).
 */
export function readHead(socket: net.Socket): Promise<ResponseHead> {
  return new Promise<ResponseHead>((resolve) => {
    let text = '';
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      socket.off('data', onData);
      socket.pause();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const end = text.indexOf('\r\n\r\n');
      resolve({
        status: status === null ? 0 : Number(status[1]),
        head: (end < 0 ? text : text.slice(0, end)).toLowerCase(),
      });
    };
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\n')) finish();
    };
    socket.on('data', onData);
    socket.once('end', finish);
    socket.once('close', finish);
    if (socket.destroyed) finish();
    else socket.resume();
  });
}
