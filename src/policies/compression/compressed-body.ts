/**
 * @module policies/compression/compressed-body
 * A ReplyBody that sends its inner body through a node:zlib compressor (by default gzip level 6,
 * brotli quality 4: about what nginx and Cloudflare use on the fly, several times faster than the
 * maximum settings for a few percent of size; `level` and `brQuality` change them) with
 * backpressure both ways and no Readable or pipeline objects added:
 *
 *   inner body ──write()──▶ compressor ──'data'──▶ client sink
 *        ▲ paused while write() is false  │ paused while the sink needs drain
 *
 * When the client reads slowly, the sink asks for drain, the compressor is paused, its buffers
 * fill, its write() returns false, and the inner body (the upstream response) pauses in turn,
 * so memory stays at the streams' high-water marks whatever the body size. The compressed
 * bytes are what the access line reports.
 */
import type { Transform } from 'node:stream';
import { constants, createBrotliCompress, createGzip, type BrotliOptions, type ZlibOptions } from 'node:zlib';
import type { BodyDone, BodySink, ReplyBody } from '../../pipeline/stage';
import { DEFAULT_BROTLI_QUALITY, DEFAULT_GZIP_LEVEL, type ContentCoding } from './config';

/** The zlib options of both codings, built once per route (see `compressorOptions`). */
export interface CompressorOptions {
  readonly gzip: ZlibOptions;
  readonly br: BrotliOptions;
}

/** gzip `level` (1-9) and br `quality` (0-11) → the options every compressor of a route is made with. */
export function compressorOptions(
  level = DEFAULT_GZIP_LEVEL,
  quality = DEFAULT_BROTLI_QUALITY,
): CompressorOptions {
  return {
    gzip: { level },
    br: {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: quality,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        // A 1 MB window instead of 4 MB: each concurrent stream holds one, for a percent or so of size.
        [constants.BROTLI_PARAM_LGWIN]: 20,
      },
    },
  };
}

const DEFAULT_OPTIONS = compressorOptions();

export class CompressedBody implements ReplyBody {
  constructor(
    private readonly inner: ReplyBody,
    private readonly coding: ContentCoding,
    private readonly options: CompressorOptions = DEFAULT_OPTIONS,
  ) {}

  sendTo(sink: BodySink, done: BodyDone): void {
    new CompressingSink(this.inner, this.coding, this.options, sink, done).start();
  }

  discard(): void {
    this.inner.discard();
  }
}

/**
 * The sink the inner body writes into. Its handlers are bound per instance: one compressed
 * response allocates a zlib stream and its buffers anyway, a few closures are noise beside that.
 */
class CompressingSink implements BodySink {
  private readonly zlib: Transform;
  private bytes = 0;
  private settled = false;
  /** The inner body tore the sink down; its done callback brings the error. */
  private innerFailing = false;

  constructor(
    private readonly inner: ReplyBody,
    coding: ContentCoding,
    options: CompressorOptions,
    private readonly sink: BodySink,
    private readonly done: BodyDone,
  ) {
    this.zlib = coding === 'br' ? createBrotliCompress(options.br) : createGzip(options.gzip);
  }

  start(): void {
    const zlib = this.zlib;
    zlib.on('data', this.onData);
    zlib.once('end', this.onEnd);
    // Stays attached after a failure: a write racing the teardown then errors harmlessly here.
    zlib.on('error', this.onError);
    this.sink.once('close', this.onSinkClose);
    this.inner.sendTo(this, this.onInnerDone);
  }

  get writableNeedDrain(): boolean {
    return this.zlib.writableNeedDrain;
  }

  write(chunk: Buffer): boolean {
    return this.zlib.write(chunk);
  }

  end(chunkOrCallback?: Buffer | (() => void), callback?: () => void): unknown {
    if (Buffer.isBuffer(chunkOrCallback)) this.zlib.end(chunkOrCallback, callback);
    else this.zlib.end(chunkOrCallback);
    return this;
  }

  /** Only the inner body calls this (it failed mid-way); it reports the error through its done. */
  destroy(error?: Error): unknown {
    if (error) this.fail(error, true);
    else {
      this.innerFailing = true;
      this.tearDown();
    }
    return this;
  }

  once(event: 'drain' | 'close', listener: () => void): unknown {
    // 'drain' is the compressor's input side; 'close' means the client went away.
    if (event === 'drain') this.zlib.once('drain', listener);
    else this.sink.once('close', listener);
    return this;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.bytes += chunk.length;
    if (!this.sink.write(chunk)) {
      this.zlib.pause();
      this.sink.once('drain', this.onSinkDrain);
    }
  };

  private readonly onSinkDrain = (): void => {
    this.zlib.resume();
  };

  private readonly onEnd = (): void => {
    this.sink.end(this.onSinkEnd);
  };

  private readonly onSinkEnd = (): void => {
    if (this.settled) return;
    this.settled = true;
    this.done(undefined, this.bytes);
  };

  private readonly onError = (err: Error): void => this.fail(err, false);

  /** The client left before the end: stop the inner body (the upstream request) as well. */
  private readonly onSinkClose = (): void => {
    if (!this.settled && !this.innerFailing) this.fail(new Error('client closed the connection'), false);
  };

  private readonly onInnerDone = (err: Error | undefined): void => {
    if (err) this.fail(err, true);
  };

  private fail(err: Error, innerKnows: boolean): void {
    if (this.settled) return;
    this.settled = true;
    if (!innerKnows) this.inner.discard();
    this.tearDown();
    this.done(err, this.bytes);
  }

  private tearDown(): void {
    this.zlib.destroy();
    // Headers are out: the only honest signal left is a truncated response.
    this.sink.destroy();
  }
}
