/**
 * Server-Sent Events over node:http: message framing, and a stream per client with a
 * heartbeat and a bound on unsent bytes (a slow client misses strips instead of growing memory).
 */
import type { ServerResponse } from 'node:http';

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
   * Droppable messages are skipped while more than this many bytes wait to be sent, and the
   * client is disconnected beyond twice that (default 8 MiB).
   */
  maxBufferedBytes?: number;
  /** Reconnection delay sent to the browser in the first message, ms (default 2000). */
  retryMs?: number;
}

/**
 * One client's event stream: writes the SSE headers and a `retry:` hint, sends messages, sends
 * a heartbeat comment, and cleans up when either side closes.
 *
 * @example
 * ```ts
 * const stream = new SseStream(res, { heartbeatMs: 15_000 });
 * stream.send({ event: 'hello', data: JSON.stringify(snapshot) });
 * stream.onClose(() => unsubscribe());
 * ```
 */
export class SseStream {
  private readonly res: ServerResponse;
  private readonly maxBufferedBytes: number;
  private readonly heartbeat: NodeJS.Timeout | undefined;
  private readonly closeHandlers: (() => void)[] = [];
  private ended = false;
  private skipped = 0;

  constructor(res: ServerResponse, options: SseStreamOptions = {}) {
    this.res = res;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${options.retryMs ?? 2000}\n\n`);
    const heartbeatMs = options.heartbeatMs ?? 15_000;
    if (heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.write(formatSseComment('ping')), heartbeatMs);
      this.heartbeat.unref();
    }
    res.on('close', () => this.finish());
  }

  /** Whether the stream has ended (client gone or {@link close} called). */
  get closed(): boolean {
    return this.ended;
  }

  /** Droppable messages skipped so far because the client read too slowly. */
  get skippedMessages(): number {
    return this.skipped;
  }

  /**
   * Sends a message. A `droppable` one (a strip) is skipped while the client is behind by more
   * than `maxBufferedBytes`; a client behind by more than twice that is disconnected (its
   * EventSource reconnects and starts afresh). Returns whether it was written.
   */
  send(message: SseMessage, options: { droppable?: boolean } = {}): boolean {
    if (this.ended) return false;
    if (this.res.writableLength > 2 * this.maxBufferedBytes) {
      this.res.destroy();
      this.finish();
      return false;
    }
    if (options.droppable === true && this.res.writableLength > this.maxBufferedBytes) {
      this.skipped += 1;
      return false;
    }
    return this.write(formatSseMessage(message));
  }

  /** Registers a callback run once when the stream ends. */
  onClose(handler: () => void): void {
    if (this.ended) handler();
    else this.closeHandlers.push(handler);
  }

  /** Ends the stream from the server side (the browser's EventSource will reconnect). */
  close(): void {
    if (this.ended) return;
    this.res.end();
    this.finish();
  }

  private write(text: string): boolean {
    if (this.ended || this.res.destroyed) return false;
    this.res.write(text);
    return true;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    for (const handler of this.closeHandlers.splice(0)) handler();
  }
}
