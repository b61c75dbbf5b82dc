/**
 * @module pipeline/static-body
 * A ReplyBody made of bytes the gateway already holds (fallbacks, cached entries, errors).
 */
import type { ServerResponse } from 'node:http';
import type { BodyDone, ReplyBody } from './stage';

export class StaticBody implements ReplyBody {
  constructor(private readonly bytes: Buffer) {}

  get length(): number {
    return this.bytes.length;
  }

  sendTo(res: ServerResponse, done: BodyDone): void {
    res.end(this.bytes, () => done(undefined, this.bytes.length));
  }

  discard(): void {}
}

export const EMPTY_BODY = new StaticBody(Buffer.alloc(0));
