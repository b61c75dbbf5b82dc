/**
 * @module pipeline/static-body
 * A ReplyBody made of bytes the gateway already holds (fallbacks, cached entries, errors).
 */
import type { BodyDone, BodySink, ReplyBody } from './stage';

export class StaticBody implements ReplyBody {
  constructor(private readonly bytes: Buffer) {}

  get length(): number {
    return this.bytes.length;
  }

  sendTo(res: BodySink, done: BodyDone): void {
    res.end(this.bytes, () => done(undefined, this.bytes.length));
  }

  discard(): void {}
}

export const EMPTY_BODY = new StaticBody(Buffer.alloc(0));
