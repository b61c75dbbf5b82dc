/**
 * @module policies/cache/tee-body
 * How a response body gets into the cache while it streams to the client: TeeBody wraps the
 * upstream ReplyBody and hands it a sink that writes every chunk to the client (backpressure
 * untouched) and keeps a reference to it, until the body is past the per-entry bound (then it
 * stops collecting and the entry is dropped). The chunks are joined once, when the body ended
 * normally; a body cut short (upstream reset, client gone: the sink is destroyed) or with fewer
 * bytes than its Content-Length is never stored. BufferSink does the same for a background
 * refresh, which has no client.
 */
import type { BodyDone, BodySink, ReplyBody } from '../../pipeline/stage';

/** Called once: the complete body, or undefined when it was cut short, too big or dropped. */
export type BodyCollected = (body: Buffer | undefined) => void;

/** Keeps chunks up to `maxBytes` and reports once. */
export class BodyCollector {
  private chunks: Buffer[] | undefined = [];
  private bytes = 0;
  private settled = false;

  constructor(
    private readonly maxBytes: number,
    /** Content-Length when the response had one: anything else is a truncated body. */
    private readonly expectedBytes: number | undefined,
    private readonly onDone: BodyCollected,
  ) {}

  add(chunk: Buffer): void {
    if (this.chunks === undefined) return;
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) this.chunks = undefined;
    else this.chunks.push(chunk);
  }

  /** The body ended normally. */
  complete(): void {
    if (this.settled) return;
    this.settled = true;
    const chunks = this.chunks;
    this.chunks = undefined;
    const whole =
      chunks !== undefined && (this.expectedBytes === undefined || this.bytes === this.expectedBytes);
    // One copy, also for a single chunk: it may be a view into a larger socket buffer, which
    // would stay pinned (and uncounted) for as long as the entry lives.
    this.onDone(whole ? Buffer.concat(chunks, this.bytes) : undefined);
  }

  /** The body will not be complete (or will not be sent at all). */
  abandon(): void {
    if (this.settled) return;
    this.settled = true;
    this.chunks = undefined;
    this.onDone(undefined);
  }
}

/** Writes to the client and collects; see the module comment. */
class TeeSink implements BodySink {
  constructor(
    private readonly sink: BodySink,
    private readonly collector: BodyCollector,
  ) {}

  get writableNeedDrain(): boolean {
    return this.sink.writableNeedDrain;
  }

  write(chunk: Buffer): boolean {
    this.collector.add(chunk);
    return this.sink.write(chunk);
  }

  end(chunkOrCallback?: Buffer | (() => void), callback?: () => void): unknown {
    if (Buffer.isBuffer(chunkOrCallback)) {
      this.collector.add(chunkOrCallback);
      this.collector.complete();
      return this.sink.end(chunkOrCallback, callback);
    }
    this.collector.complete();
    return this.sink.end(chunkOrCallback);
  }

  destroy(error?: Error): unknown {
    this.collector.abandon();
    return this.sink.destroy(error);
  }

  once(event: 'drain' | 'close', listener: () => void): unknown {
    return this.sink.once(event, listener);
  }

  /** A slow body's head still goes out at once (server-sent events through a cached route). */
  flushHeaders(): void {
    this.sink.flushHeaders?.();
  }
}

/** A ReplyBody that streams `inner` to the client and collects it for the store. */
export class TeeBody implements ReplyBody {
  constructor(
    private readonly inner: ReplyBody,
    private readonly collector: BodyCollector,
  ) {}

  sendTo(sink: BodySink, done: BodyDone): void {
    const collector = this.collector;
    this.inner.sendTo(new TeeSink(sink, collector), (err, bytes) => {
      if (err) collector.abandon();
      done(err, bytes);
    });
  }

  discard(): void {
    this.collector.abandon();
    this.inner.discard();
  }
}

/** A sink with no client behind it: only collects (background refresh). */
export class BufferSink implements BodySink {
  readonly writableNeedDrain = false;

  constructor(private readonly collector: BodyCollector) {}

  write(chunk: Buffer): boolean {
    this.collector.add(chunk);
    return true;
  }

  end(chunkOrCallback?: Buffer | (() => void), callback?: () => void): unknown {
    if (Buffer.isBuffer(chunkOrCallback)) this.collector.add(chunkOrCallback);
    this.collector.complete();
    const cb = Buffer.isBuffer(chunkOrCallback) ? callback : chunkOrCallback;
    cb?.();
    return this;
  }

  destroy(): unknown {
    this.collector.abandon();
    return this;
  }

  /** Never drains or closes: write() never asks to wait. */
  once(): unknown {
    return this;
  }
}
