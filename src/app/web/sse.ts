/**
 * Server-Sent Events over node:http: message framing, and a stream per client with a
 * heartbeat and a bound on unsent bytes (a slow client misses strips instead of growing memory,
 * and is disconnected when it stays behind).
 */
import type { ServerResponse } from 'node:http';
import { DEFAULT_VIEWER_LIMITS } from './viewer-limits.js';

/** One SSE message (see the WHATWG "server-sent events" event stream format). */
export interface SseMessage {
  /** Event type (`event:` field); the page listens for it with `addEventListener(type, ...)`. */
  readonly event?: string;
  /** Last-event id (`id:` field); the browser sends it back as `Last-Event-ID` on reconnect. */
  readonly id?: string | number;
  /** Payload; each line becomes one `data:` field (the browser joins them with `\n`). */
  readonly data: string;
  /** Reconnection delay in ms the browser should use (`retry:` field). */
  readonly retry?: number;
}

const LINE_BREAK = /\r\n|\r|\n/;

function singleLine(value: string): string {
  return value.replace(/[\r\n]/g, ' ');
}

/**
 * Frames one message: optional `event:`, `id:`, `retry:` fields, one `data:` line per line of
 * `data`, and a blank line. Line breaks in `event` and `id` are replaced by spaces.
 *
 * @example
 * ```ts
 * formatSseMessage({ event: 'strip', id: 7, data: '{"seq":7}' });
 * // 'event: strip\nid: 7\ndata: {"seq":7}\n\n'
 * ```
 */
export function formatSseMessage(message: SseMessage): string {
  let out = '';
  if (message.event !== undefined) out += `event: ${singleLine(message.event)}\n`;
  if (message.id !== undefined) out += `id: ${singleLine(String(message.id))}\n`;
  if (message.retry !== undefined && Number.isSafeInteger(message.retry) && message.retry >= 0)
    out += `retry: ${message.retry}\n`;
  for (const line of message.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment line (ignored by the browser; keeps proxies and idle timers from closing the stream). */
export function formatSseComment(text: string): string {
  return `: ${singleLine(text)}\n\n`;
}

/** Options of {@link SseStream}. */
export interface SseStreamOptions {
  /** Interval of the keep-alive comment in ms (default 15000; 0 disables it). */
  heartbeatMs?: number;
  /**
   * The client's byte budget: a droppable message is skipped when it would take the unsent bytes
   * (`res.writableLength`) over this, and any write that would take them over twice this
   * disconnects the client (default `DEFAULT_VIEWER_LIMITS.clientBufferBytes`, 4 MiB).
   */
  maxBufferedBytes?: number;
  /** Droppable messages skipped in a row before the client is disconnected (default 50). */
  maxDroppedInARow?: number;
  /** Reconnection delay sent to the browser in the first message, ms (default 2000). */
  retryMs?: number;
}

/** Why an {@link SseStream} ended. */
export type SseCloseReason = 'client' | 'server' | 'slow';

/**
 * One client's event stream: writes the SSE headers and a `retry:` hint, sends messages, sends
 * a heartbeat comment, and cleans up when either side closes.
 *
 * Memory per client is bounded: a write never takes the client's unsent bytes over twice
 * `maxBufferedBytes` (the client is disconnected instead), and {@link sendFramed} lets many
 * clients share one framed buffer.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * http.createServer((_req, res) => {
 *   const stream = new SseStream(res, { heartbeatMs: 15_000 });
 *   stream.send({ event: 'hello', data: JSON.stringify({ cameras: ['cam0'] }) });
 *   const timer = setInterval(() => stream.send({ event: 'tick', data: String(Date.now()) }), 1000);
 *   stream.onClose(() => clearInterval(timer));
 * });
 * ```
 */
export class SseStream {
  private readonly res: ServerResponse;
  private readonly maxBufferedBytes: number;
  private readonly maxDroppedInARow: number;
  private readonly heartbeat: NodeJS.Timeout | undefined;
  private readonly closeHandlers: ((reason: SseCloseReason) => void)[] = [];
  private ended = false;
  private reason: SseCloseReason | undefined;
  private skipped = 0;
  private skippedInARow = 0;

  constructor(res: ServerResponse, options: SseStreamOptions = {}) {
    this.res = res;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_VIEWER_LIMITS.clientBufferBytes;
    this.maxDroppedInARow = options.maxDroppedInARow ?? DEFAULT_VIEWER_LIMITS.maxDroppedInARow;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${options.retryMs ?? 2000}\n\n`);
    const heartbeatMs = options.heartbeatMs ?? 15_000;
    if (heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.sendFramed(formatSseComment('ping')), heartbeatMs);
      this.heartbeat.unref();
    }
    res.on('close', () => this.finish('client'));
  }

  /** Whether the stream has ended (client gone, {@link close} called, or cut off as too slow). */
  get closed(): boolean {
    return this.ended;
  }

  /** Why the stream ended, once it has. */
  get closeReason(): SseCloseReason | undefined {
    return this.reason;
  }

  /** Droppable messages skipped so far because the client read too slowly. */
  get skippedMessages(): number {
    return this.skipped;
  }

  /** Bytes written but not yet taken by the client's socket. */
  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  /**
   * Sends a message. A `droppable` one (a strip) is skipped when it would take the client's
   * unsent bytes over `maxBufferedBytes`; any message that would take them over twice that, or
   * the `maxDroppedInARow`-th skip in a row, disconnects the client (its EventSource reconnects
   * and starts afresh). Returns whether it was written.
   */
  send(message: SseMessage, options: { droppable?: boolean } = {}): boolean {
    return this.sendFramed(formatSseMessage(message), options);
  }

  /**
   * Sends an already framed message ({@link formatSseMessage}); a `Buffer` may be shared by many
   * streams (node queues a reference, not a copy). Same rules as {@link send}.
   */
  sendFramed(framed: string | Buffer, options: { droppable?: boolean } = {}): boolean {
    if (this.ended || this.res.destroyed) return false;
    const queued = this.res.writableLength;
    const after = queued + (typeof framed === 'string' ? Buffer.byteLength(framed) : framed.length);
    if (options.droppable === true && queued > 0 && after > this.maxBufferedBytes) {
      this.skipped += 1;
      this.skippedInARow += 1;
      if (this.skippedInARow >= this.maxDroppedInARow) this.cutOff();
      return false;
    }
    if (queued > 0 && after > 2 * this.maxBufferedBytes) {
      this.cutOff();
      return false;
    }
    if (options.droppable === true) this.skippedInARow = 0;
    this.res.write(framed);
    return true;
  }

  /** Registers a callback run once when the stream ends, with the reason. */
  onClose(handler: (reason: SseCloseReason) => void): void {
    if (this.ended) handler(this.reason ?? 'server');
    else this.closeHandlers.push(handler);
  }

  /** Ends the stream from the server side (the browser's EventSource will reconnect). */
  close(): void {
    if (this.ended) return;
    this.res.end();
    this.finish('server');
  }

  private cutOff(): void {
    this.res.destroy();
    this.finish('slow');
  }

  private finish(reason: SseCloseReason): void {
    if (this.ended) return;
    this.ended = true;
    this.reason = reason;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    for (const handler of this.closeHandlers.splice(0)) handler(reason);
  }
}
