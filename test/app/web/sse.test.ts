import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { formatSseComment, formatSseMessage, SseStream } from '../../../src/app/web/sse.js';
import { openSse, parseSse } from './sse-reader.js';

describe('formatSseMessage', () => {
  it('frames event, id and data fields and ends with a blank line', () => {
    expect(formatSseMessage({ event: 'strip', id: 7, data: '{"seq":7}' })).toBe(
      'event: strip\nid: 7\ndata: {"seq":7}\n\n',
    );
    expect(formatSseMessage({ data: 'x' })).toBe('data: x\n\n');
    expect(formatSseMessage({ data: '', retry: 2000 })).toBe('retry: 2000\ndata: \n\n');
  });

  it('splits multi-line data into data lines, whatever the line break', () => {
    const framed = formatSseMessage({ event: 'e', data: 'a\nb\r\nc\rd' });
    expect(framed).toBe('event: e\ndata: a\ndata: b\ndata: c\ndata: d\n\n');
    expect(parseSse(framed).events).toEqual([{ event: 'e', id: undefined, data: 'a\nb\nc\nd' }]);
  });

  it('cannot be broken out of through event names or ids', () => {
    const framed = formatSseMessage({ event: 'a\n\ndata: injected', id: '1\r\n2', data: 'ok' });
    const { events, rest } = parseSse(framed);
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toBe('ok');
    expect(rest).toBe('');
  });

  it('writes comments the browser ignores', () => {
    expect(formatSseComment('ping')).toBe(': ping\n\n');
    expect(parseSse(formatSseComment('ping\nevent: x')).events).toEqual([]);
  });
});

describe('SseStream', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    if (server === undefined) return;
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
    server = undefined;
  });

  async function serve(handler: (stream: SseStream) => void, options = {}): Promise<number> {
    server = http.createServer((_req, res) => handler(new SseStream(res, options)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  it('sends the event-stream headers, messages and a heartbeat, and runs close handlers when the client leaves', async () => {
    let closed: () => void = () => undefined;
    const gone = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const port = await serve(
      (stream) => {
        stream.send({ event: 'hello', data: '{"a":1}' });
        stream.onClose(closed);
      },
      { heartbeatMs: 20, retryMs: 1500 },
    );
    const raw = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
        if (text.includes(': ping')) {
          socket.destroy();
          resolve(text);
        }
      });
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(raw).toMatch(/content-type: text\/event-stream; charset=utf-8/i);
    expect(raw).toMatch(/cache-control: no-store/i);
    expect(raw).toContain('retry: 1500\n\n');
    expect(raw).toContain('event: hello\ndata: {"a":1}\n\n');
    await gone;
  });

  it('skips droppable messages for a client that does not read, and cuts it off when far behind', async () => {
    let resolveStream: (s: SseStream) => void = () => undefined;
    const opened = new Promise<SseStream>((resolve) => {
      resolveStream = resolve;
    });
    const port = await serve(resolveStream, { heartbeatMs: 0, maxBufferedBytes: 1024 * 1024 });
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.pause(); // never reads: the kernel buffers fill, then node's
    const stream = await opened;
    const big = 'x'.repeat(256 * 1024);
    let written = 0;
    for (let i = 0; i < 400 && stream.skippedMessages === 0; i++) {
      if (stream.send({ event: 'strip', data: big }, { droppable: true })) written++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(stream.skippedMessages).toBeGreaterThan(0);
    expect(written).toBeGreaterThan(0);
    // a message that must arrive (status) is still queued...
    expect(stream.send({ event: 'status', data: '{}' })).toBe(true);
    // ...until the client is twice the bound behind: then it is cut off (it will reconnect)
    for (let i = 0; i < 400 && !stream.closed; i++) {
      stream.send({ event: 'status', data: big });
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(stream.closed).toBe(true);
    socket.destroy();
  });

  /** Opens a client that sends its request and never reads; resolves with the server's stream. */
  async function stalledClient(options: object): Promise<{ stream: SseStream; socket: net.Socket }> {
    let resolveStream: (s: SseStream) => void = () => undefined;
    const opened = new Promise<SseStream>((resolve) => {
      resolveStream = resolve;
    });
    const port = await serve(resolveStream, options);
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.pause();
    return { stream: await opened, socket };
  }

  it('never lets a stalled client queue more than twice its budget: the write that would is not made', async () => {
    const budget = 256 * 1024;
    const { stream, socket } = await stalledClient({ heartbeatMs: 0, maxBufferedBytes: budget });
    const status = 'y'.repeat(60 * 1024);
    let most = 0;
    // status messages are not droppable: they queue until the next one would pass 2 x budget
    for (let i = 0; i < 2000 && !stream.closed; i++) {
      stream.send({ event: 'status', data: status });
      most = Math.max(most, stream.bufferedBytes);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(stream.closed).toBe(true);
    expect(stream.closeReason).toBe('slow');
    expect(most).toBeGreaterThan(budget);
    expect(most).toBeLessThanOrEqual(2 * budget);
    socket.destroy();
  });

  it('cuts off a client that misses maxDroppedInARow strips in a row, and counts each miss', async () => {
    const budget = 128 * 1024;
    const { stream, socket } = await stalledClient({
      heartbeatMs: 0,
      maxBufferedBytes: budget,
      maxDroppedInARow: 5,
    });
    const closes: string[] = [];
    stream.onClose((reason) => closes.push(reason));
    // one framed buffer shared by every write, as the viewer's fan-out does
    const strip = Buffer.from(formatSseMessage({ event: 'strip', data: 'z'.repeat(48 * 1024) }));
    for (let i = 0; i < 2000 && !stream.closed; i++) {
      stream.sendFramed(strip, { droppable: true });
      expect(stream.bufferedBytes).toBeLessThanOrEqual(budget);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(stream.closed).toBe(true);
    expect(stream.skippedMessages).toBeGreaterThanOrEqual(5);
    expect(closes).toEqual(['slow']);
    socket.destroy();
  });

  it('ends the response when closed from the server side', async () => {
    let resolveStream: (s: SseStream) => void = () => undefined;
    const opened = new Promise<SseStream>((resolve) => {
      resolveStream = resolve;
    });
    const port = await serve(resolveStream);
    const client = await openSse(`http://127.0.0.1:${port}/`);
    expect(client.status).toBe(200);
    const stream = await opened;
    stream.send({ event: 'one', data: '1' });
    expect(await client.next()).toEqual({ event: 'one', id: undefined, data: '1' });
    stream.close();
    expect(stream.closed).toBe(true);
    expect(stream.send({ data: 'late' })).toBe(false);
    expect(await client.ended()).toBe(true);
  });
});
