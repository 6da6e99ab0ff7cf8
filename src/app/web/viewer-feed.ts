/**
 * Fans the hub's events out to the open event streams: each event is serialised and framed once
 * and the same buffer is written to every client that wants it (no per-client JSON), and the
 * bounded `hello` snapshot of a camera is built once until that camera changes.
 */
import { formatSseMessage, type SseStream } from './sse.js';
import type { ViewerHub } from './viewer-hub.js';
import { type SnapshotBounds, snapshotJson, stripJson } from './viewer-json.js';
import type { ViewerEvent } from './viewer-messages.js';

interface FeedClient {
  readonly stream: SseStream;
  /** The camera whose strips and status it gets; null: the camera list only. */
  readonly camera: string | null;
}

function framed(event: string, data: string, id?: number): Buffer {
  return Buffer.from(formatSseMessage(id === undefined ? { event, data } : { event, id, data }));
}

/**
 * The live side of the viewer routes: greets a new stream (`cameras`, then `hello` with its
 * camera's bounded snapshot) and forwards `cameras`, `strip` (droppable) and `status` events.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { SseStream } from './sse.js';
 * import { ViewerHub } from './viewer-hub.js';
 * const feed = new ViewerFeed(new ViewerHub(), { maxStrips: 24, maxBytes: 2 << 20 });
 * http.createServer((_req, res) => feed.add(new SseStream(res), 'cam0'));
 * // on shutdown:
 * feed.close();
 * ```
 */
export class ViewerFeed {
  private readonly hub: ViewerHub;
  private readonly bounds: SnapshotBounds;
  private readonly clients = new Set<FeedClient>();
  private readonly hellos = new Map<string, Buffer>();
  private readonly unsubscribe: () => void;
  private dropped = 0;

  /**
   * @param hub - where the events come from
   * @param bounds - strips and bytes of the snapshot each new client gets
   */
  constructor(hub: ViewerHub, bounds: SnapshotBounds) {
    this.hub = hub;
    this.bounds = bounds;
    this.unsubscribe = hub.subscribe((event) => this.forward(event));
  }

  /** Open streams. */
  get size(): number {
    return this.clients.size;
  }

  /** Strips not sent to a client because it was over its byte budget, over the feed's life. */
  get droppedUpdates(): number {
    return this.dropped;
  }

  /** Greets `stream` and keeps it fed until it closes. */
  add(stream: SseStream, camera: string | null): void {
    const client: FeedClient = { stream, camera };
    this.clients.add(client);
    stream.onClose(() => this.clients.delete(client));
    stream.sendFramed(framed('cameras', JSON.stringify(this.hub.cameras())));
    if (camera !== null) stream.sendFramed(this.hello(camera));
  }

  /** Ends every stream and stops listening to the hub. */
  close(): void {
    this.unsubscribe();
    for (const client of [...this.clients]) client.stream.close();
    this.clients.clear();
    this.hellos.clear();
  }

  private hello(camera: string): Buffer {
    let cached = this.hellos.get(camera);
    if (cached === undefined) {
      const snapshot = this.hub.snapshot(camera);
      const text = snapshotJson(
        snapshot ?? { cameraId: camera, strips: [], series: [], status: null },
        this.bounds,
      );
      cached = framed('hello', text);
      // An unknown camera's greeting is not kept: the set of names asked for is unbounded.
      if (snapshot !== undefined) this.hellos.set(camera, cached);
    }
    return cached;
  }

  private forward(event: ViewerEvent): void {
    if (event.type === 'cameras') {
      if (this.clients.size === 0) return;
      const message = framed('cameras', JSON.stringify(event.cameras));
      for (const client of this.clients) client.stream.sendFramed(message);
      return;
    }
    this.hellos.delete(event.cameraId);
    let message: Buffer | undefined;
    for (const client of this.clients) {
      if (client.camera !== event.cameraId) continue;
      if (event.type === 'strip') {
        message ??= framed('strip', stripJson(event.strip), event.strip.seq);
        const before = client.stream.skippedMessages;
        client.stream.sendFramed(message, { droppable: true });
        this.dropped += client.stream.skippedMessages - before;
      } else {
        message ??= framed('status', JSON.stringify({ status: event.status, point: event.point }));
        client.stream.sendFramed(message);
      }
    }
  }
}
