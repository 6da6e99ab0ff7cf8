/** A small Server-Sent Events client over fetch, for the viewer's HTTP tests. */

/** One parsed event. */
export interface ParsedSseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/** Parses complete events out of `buffer`; returns them and the unparsed rest. */
export function parseSse(buffer: string): { events: ParsedSseEvent[]; rest: string } {
  const events: ParsedSseEvent[] = [];
  let rest = buffer;
  for (let end = rest.indexOf('\n\n'); end >= 0; end = rest.indexOf('\n\n')) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    let hasData = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') {
        data.push(value);
        hasData = true;
      }
    }
    if (hasData) events.push({ event, id, data: data.join('\n') });
  }
  return { events, rest };
}

/** An open event stream: take events one by one, then close. */
export interface SseConnection {
  readonly status: number;
  readonly contentType: string | null;
  /** The next event (waits for it); rejects when the stream ends first. */
  next(): Promise<ParsedSseEvent>;
  /** The next event of type `event`, skipping others. */
  nextOf(event: string): Promise<ParsedSseEvent>;
  /** Resolves true when the server ends the stream. */
  ended(): Promise<boolean>;
  close(): Promise<void>;
}

/** Opens `url` as an event stream (with extra request `headers`, e.g. authorization). */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const controller = new AbortController();
  const res = await fetch(url, {
    signal: controller.signal,
    headers: { accept: 'text/event-stream', ...headers },
  });
  const body = res.body;
  if (body === null) throw new Error('no body');
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const queue: ParsedSseEvent[] = [];
  let buffer = '';
  let done = false;

  async function fill(): Promise<void> {
    const chunk = await reader.read();
    if (chunk.done) {
      done = true;
      return;
    }
    buffer += decoder.decode(chunk.value, { stream: true });
    const parsed = parseSse(buffer);
    buffer = parsed.rest;
    queue.push(...parsed.events);
  }

  async function next(): Promise<ParsedSseEvent> {
    while (queue.length === 0) {
      if (done) throw new Error('event stream ended');
      await fill();
    }
    return queue.shift() as ParsedSseEvent;
  }

  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    next,
    async nextOf(event) {
      for (;;) {
        const e = await next();
        if (e.event === event) return e;
      }
    },
    async ended() {
      while (!done) await fill();
      return true;
    },
    async close() {
      controller.abort();
      await reader.cancel().catch(() => undefined);
    },
  };
}
