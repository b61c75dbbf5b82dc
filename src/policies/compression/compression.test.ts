import { Writable } from 'node:stream';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import type { BodyDone, BodySink, Reply, ReplyBody, ReplyHeaders } from '../../pipeline/stage';
import { StaticBody } from '../../pipeline/static-body';
import { pickEncoding } from './accept-encoding';
import { CompressedBody, compressorOptions } from './compressed-body';
import { DEFAULT_COMPRESSIBLE_TYPES, normalizeCompression } from './config';
import { worthCompressing } from './index';
import { MediaTypes } from './media-types';

describe('pickEncoding', () => {
  const both = ['br', 'gzip'] as const;
  it.each([
    [undefined, 'none'],
    ['', 'none'],
    ['identity', 'none'],
    ['gzip', 'gzip'],
    ['gzip, deflate, br', 'br'],
    ['br;q=0.5, gzip', 'gzip'],
    ['br;q=0, gzip;q=0', 'none'],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['gzip;q=1.0, br;q=1.0', 'br'],
    ['x-gzip', 'gzip'],
    ['GZIP;Q=0.9', 'gzip'],
    ['gzip;q=banana', 'none'],
    ['deflate', 'none'],
  ])('%j → %s', (header, expected) => {
    expect(pickEncoding(header, both) ?? 'none').toBe(expected);
  });

  it('breaks ties by the route order', () => {
    expect(pickEncoding('gzip, br', ['gzip', 'br'])).toBe('gzip');
    expect(pickEncoding('br', ['gzip'])).toBeUndefined();
  });
});

describe('MediaTypes', () => {
  const types = new MediaTypes(DEFAULT_COMPRESSIBLE_TYPES);
  it.each([
    ['text/html; charset=utf-8', true],
    ['Text/CSS', true],
    ['application/json', true],
    ['application/problem+json', true],
    ['application/atom+xml;charset=utf-8', true],
    ['image/svg+xml', true],
    ['text/event-stream', false],
    ['image/png', false],
    ['application/octet-stream', false],
    ['application/+json', false],
    ['text/', false],
  ])('%s → %s', (type, expected) => {
    expect(types.compressible(type)).toBe(expected);
  });
});

describe('worthCompressing', () => {
  const types = new MediaTypes(['text/*']);
  const reply = (status: number, headers: ReplyHeaders): Reply => ({
    status,
    headers,
    body: new StaticBody(Buffer.alloc(0)),
    source: 'upstream',
  });
  const text = { 'content-type': 'text/plain' };
  it.each([
    ['a big text answer', 200, { ...text, 'content-length': '2048' }, true],
    ['unknown length', 200, text, true],
    ['an error page', 500, { ...text, 'content-length': '5000' }, true],
    ['too small', 200, { ...text, 'content-length': '1023' }, false],
    ['already encoded', 200, { ...text, 'content-encoding': 'gzip' }, false],
    ['identity encoding', 200, { ...text, 'content-encoding': 'identity' }, true],
    ['no-transform', 200, { ...text, 'cache-control': 'public, No-Transform' }, false],
    ['no type', 200, {}, false],
    ['a binary type', 200, { 'content-type': 'image/png' }, false],
    ['204', 204, text, false],
    ['206', 206, text, false],
    ['304', 304, text, false],
  ])('%s', (_name, status, headers, expected) => {
    expect(worthCompressing(reply(status, { ...headers }), types, 1024)).toBe(expected);
  });

  it('never compresses an empty body, even with minSize 0', () => {
    expect(worthCompressing(reply(200, { ...text, 'content-length': '0' }), types, 0)).toBe(false);
    expect(worthCompressing(reply(200, { ...text, 'content-length': '1' }), types, 0)).toBe(true);
  });
});

describe('normalizeCompression', () => {
  it('fills the defaults and inherits', () => {
    expect(normalizeCompression({})).toEqual({
      minSizeBytes: 1024,
      types: DEFAULT_COMPRESSIBLE_TYPES,
      encodings: ['br', 'gzip'],
      level: 6,
      brQuality: 4,
    });
    expect(normalizeCompression({ level: 9, brQuality: 11 })).toMatchObject({ level: 9, brQuality: 11 });
    // A route's block replaces the server's as a whole: its level is its own or the default.
    expect(normalizeCompression({ minSize: '2kb' }, { level: 1 })?.level).toBe(6);
    expect(normalizeCompression(undefined, { level: 1 })?.level).toBe(1);
    expect(normalizeCompression(undefined, { minSize: '2kb' })?.minSizeBytes).toBe(2048);
    expect(normalizeCompression(false, { minSize: '2kb' })).toBeUndefined();
    expect(normalizeCompression({ encodings: ['gzip', 'gzip'] })?.encodings).toEqual(['gzip']);
  });
});

/** A real Writable that drains `bytesPerTick` at a time: a slow client. */
function slowSink(bytesPerTick: number): Writable & { received: Buffer[] } {
  const received: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, callback) {
      received.push(chunk);
      setTimeout(callback, chunk.length > bytesPerTick ? 2 : 0);
    },
  });
  return Object.assign(sink, { received });
}

/** An upstream-like body: writes chunks while the sink accepts them, waits for drain otherwise. */
class PumpedBody implements ReplyBody {
  produced = 0;
  discarded = false;
  constructor(
    private readonly chunk: Buffer,
    private readonly total: number,
  ) {}

  sendTo(sink: BodySink, done: BodyDone): void {
    const pump = (): void => {
      while (this.produced < this.total) {
        this.produced += this.chunk.length;
        if (!sink.write(this.chunk)) {
          sink.once('drain', pump);
          return;
        }
      }
      sink.end(() => done(undefined, this.produced));
    };
    pump();
  }

  discard(): void {
    this.discarded = true;
  }
}

function send(body: ReplyBody, sink: BodySink): Promise<{ err: Error | undefined; bytes: number }> {
  return new Promise((resolve) => body.sendTo(sink, (err, bytes) => resolve({ err, bytes })));
}

describe('CompressedBody', () => {
  const text = Buffer.from('breakwater compresses text. '.repeat(4000));

  it.each([
    ['gzip', gunzipSync],
    ['br', brotliDecompressSync],
  ] as const)('%s decodes back to the original', async (coding, decode) => {
    const sink = slowSink(Infinity);
    const { err, bytes } = await send(new CompressedBody(new StaticBody(text), coding), sink);
    expect(err).toBeUndefined();
    const out = Buffer.concat(sink.received);
    expect(bytes).toBe(out.length);
    expect(out.length).toBeLessThan(text.length / 10);
    expect(decode(out).equals(text)).toBe(true);
  });

  it.each([
    ['the defaults (gzip 6, br 4)', undefined, undefined],
    ['gzip 1, br 0', 1, 0],
    ['gzip 9, br 11', 9, 11],
  ])('%s: the bytes zlib makes at those settings, not at others', async (_name, level, quality) => {
    const options = compressorOptions(level, quality);
    const encode = async (coding: 'gzip' | 'br') => {
      const sink = slowSink(Infinity);
      await send(new CompressedBody(new StaticBody(text), coding, options), sink);
      return Buffer.concat(sink.received);
    };
    const gzip = await encode('gzip');
    expect(gzip.equals(gzipSync(text, { level: level ?? 6 }))).toBe(true);
    for (const other of [1, 6, 9].filter((l) => l !== (level ?? 6)))
      expect(gzip.equals(gzipSync(text, { level: other }))).toBe(false);
    const br = await encode('br');
    const brotli = (q: number) =>
      brotliCompressSync(text, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: q,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          [constants.BROTLI_PARAM_LGWIN]: 20,
        },
      });
    expect(br.equals(brotli(quality ?? 4))).toBe(true);
    expect(br.equals(brotli(quality === 11 ? 4 : 11))).toBe(false);
  });

  it('holds the inner body back while the client reads slowly', async () => {
    // Incompressible, so the compressed side is as big as the input and backpressure matters.
    const chunk = randomBytes(64 * 1024);
    const inner = new PumpedBody(chunk, 8 * 1024 * 1024);
    let written = 0;
    let maxAhead = 0;
    const received: Buffer[] = [];
    const sink = new Writable({
      highWaterMark: 16 * 1024,
      write(data: Buffer, _enc, callback) {
        written += data.length;
        received.push(data);
        maxAhead = Math.max(maxAhead, inner.produced - written);
        setImmediate(callback);
      },
    });
    const { err } = await send(new CompressedBody(inner, 'gzip'), sink);
    expect(err).toBeUndefined();
    expect(gunzipSync(Buffer.concat(received)).length).toBe(8 * 1024 * 1024);
    // Sink, compressor in and out buffers and one chunk in flight: far below the 8 MB body.
    expect(maxAhead).toBeLessThan(512 * 1024);
  });

  it('stops the inner body when the client goes away', async () => {
    const inner = new PumpedBody(randomBytes(64 * 1024), 64 * 1024 * 1024);
    const sink = new Writable({
      highWaterMark: 16 * 1024,
      write(_data, _enc, callback) {
        setImmediate(callback);
      },
    });
    const sent = send(new CompressedBody(inner, 'gzip'), sink);
    setTimeout(() => sink.destroy(), 20);
    const { err } = await sent;
    expect(err).toBeInstanceOf(Error);
    expect(inner.discarded).toBe(true);
    expect(inner.produced).toBeLessThan(64 * 1024 * 1024);
  });

  it('reports a failing inner body and truncates the response', async () => {
    const failing: ReplyBody = {
      sendTo(sink, done) {
        sink.write(text);
        setImmediate(() => {
          sink.destroy();
          done(new Error('upstream reset'), text.length);
        });
      },
      discard() {},
    };
    const sink = slowSink(Infinity);
    const { err } = await send(new CompressedBody(failing, 'br'), sink);
    expect(err?.message).toBe('upstream reset');
    expect(sink.destroyed).toBe(true);
  });
});
