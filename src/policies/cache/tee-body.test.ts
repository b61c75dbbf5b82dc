/**
 * Unit tests: Tee and buffer sinks: the body reaches the client whole and is stored only when complete.
 */
import { EventEmitter } from 'node:events';
import type { BodyDone, BodySink, ReplyBody } from '../../pipeline/stage';
import { BodyCollector, BufferSink, TeeBody } from './tee-body';

/** A client stand-in that records what it got. */
class RecordingSink extends EventEmitter implements BodySink {
  chunks: Buffer[] = [];
  ended = false;
  destroyed = false;
  writableNeedDrain = false;
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }
  end(a?: Buffer | (() => void), b?: () => void): unknown {
    if (Buffer.isBuffer(a)) this.chunks.push(a);
    this.ended = true;
    (typeof a === 'function' ? a : b)?.();
    return this;
  }
  destroy(): unknown {
    this.destroyed = true;
    return this;
  }
}

/** A body that writes `chunks` then ends, or is destroyed after them when `fail`. */
function scriptedBody(chunks: string[], fail = false): ReplyBody & { discarded: boolean } {
  return {
    discarded: false,
    sendTo(sink: BodySink, done: BodyDone) {
      for (const chunk of chunks) sink.write(Buffer.from(chunk));
      if (fail) {
        sink.destroy(new Error('reset'));
        done(new Error('reset'), 0);
      } else sink.end(() => done(undefined, 0));
    },
    discard() {
      this.discarded = true;
    },
  };
}

function collect(maxBytes: number, expected?: number) {
  const results: (string | undefined)[] = [];
  const collector = new BodyCollector(maxBytes, expected, (body) => results.push(body?.toString()));
  return { collector, results };
}

describe('TeeBody', () => {
  it('streams to the client and stores the whole body once', () => {
    const { collector, results } = collect(100);
    const sink = new RecordingSink();
    new TeeBody(scriptedBody(['ab', 'cd']), collector).sendTo(sink, () => undefined);
    expect(Buffer.concat(sink.chunks).toString()).toBe('abcd');
    expect(sink.ended).toBe(true);
    expect(results).toEqual(['abcd']);
  });

  it('stops collecting past the bound but still streams everything', () => {
    const { collector, results } = collect(3);
    const sink = new RecordingSink();
    new TeeBody(scriptedBody(['ab', 'cd', 'ef']), collector).sendTo(sink, () => undefined);
    expect(Buffer.concat(sink.chunks).toString()).toBe('abcdef');
    expect(results).toEqual([undefined]);
  });

  it('does not store a body cut short', () => {
    const { collector, results } = collect(100);
    const sink = new RecordingSink();
    new TeeBody(scriptedBody(['ab'], true), collector).sendTo(sink, () => undefined);
    expect(sink.destroyed).toBe(true);
    expect(results).toEqual([undefined]);
  });

  it('does not store a body shorter than its Content-Length', () => {
    const { collector, results } = collect(100, 10);
    new TeeBody(scriptedBody(['ab']), collector).sendTo(new RecordingSink(), () => undefined);
    expect(results).toEqual([undefined]);
  });

  it('reports a discarded body as not stored and discards the inner one', () => {
    const { collector, results } = collect(100);
    const inner = scriptedBody(['ab']);
    new TeeBody(inner, collector).discard();
    expect(inner.discarded).toBe(true);
    expect(results).toEqual([undefined]);
  });

  it('collects end(chunk) bodies (static bodies write once)', () => {
    const { collector, results } = collect(100);
    const sink = new RecordingSink();
    const body: ReplyBody = {
      sendTo: (s, done) => void s.end(Buffer.from('static'), () => done(undefined, 6)),
      discard: () => undefined,
    };
    new TeeBody(body, collector).sendTo(sink, () => undefined);
    expect(results).toEqual(['static']);
    expect(Buffer.concat(sink.chunks).toString()).toBe('static');
  });
});

describe('BufferSink', () => {
  it('collects with no client behind it', () => {
    const { collector, results } = collect(100);
    scriptedBody(['x', 'y']).sendTo(new BufferSink(collector), () => undefined);
    expect(results).toEqual(['xy']);
  });
});
