/**
 * @module observability/line-sink
 * Where log lines go: a file descriptor (stdout by default), written asynchronously in batches
 * so a request never waits on a log write, and flushed every FLUSH_INTERVAL_MS so a quiet
 * gateway's lines still show within a second, in order. A sink that goes away (closed pipe,
 * full disk, dead log shipper) costs log lines, counted in `dropped`, never traffic: sonic-boom,
 * which pino uses by default, retries EPIPE forever in flushSync and wedged the whole process.
 */
import { write, writeSync } from 'node:fs';

/** Quiet gateways flush this often, so every line shows within a second. */
const FLUSH_INTERVAL_MS = 100;
/** A batch this large is written at once rather than waiting for the timer. */
const BATCH_BYTES = 64 * 1024;
/** Lines held while the sink is slow (a full pipe); beyond this, new lines are dropped. */
const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;
/** How long a full pipe (EAGAIN) is given before the next try. */
const RETRY_MS = 20;
/** Errors after which the descriptor will never take a line again. */
const FATAL = new Set(['EPIPE', 'EBADF', 'EINVAL', 'ECONNRESET', 'ENOTCONN']);

interface Batch {
  data: Buffer;
  lines: number;
}

export class LineSink {
  /** Lines that never reached the sink. */
  dropped = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private backlog: Batch[] = [];
  private backlogBytes = 0;
  private writing = false;
  private dead = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly fd: number) {
    this.timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** pino's destination call: one serialised line (with its newline). Never blocks. */
  write(line: string): boolean {
    if (this.dead || this.backlogBytes + this.pendingBytes > MAX_BACKLOG_BYTES) {
      this.dropped++;
      return true;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= BATCH_BYTES) this.flush();
    return true;
  }

  /** Starts writing what is held; one write in flight at a time keeps lines in order. */
  flush(): void {
    this.seal();
    if (this.writing || this.dead || this.backlog.length === 0) return;
    const batch = this.backlog[0]!;
    this.writing = true;
    write(this.fd, batch.data, 0, batch.data.length, null, (err, written) => {
      this.writing = false;
      if (err) return this.failed(err as NodeJS.ErrnoException);
      this.advance(written);
      if (this.backlog.length > 0 || this.pending.length > 0) this.flush();
    });
  }

  /** Last chance at exit: writes what is left synchronously, giving up rather than hanging. */
  flushSync(): void {
    clearInterval(this.timer);
    this.seal();
    for (let tries = 0; this.backlog.length > 0 && !this.dead && tries < 100; tries++) {
      const batch = this.backlog[0]!;
      try {
        this.advance(writeSync(this.fd, batch.data));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') this.kill();
      }
    }
    for (const batch of this.backlog) this.dropped += batch.lines;
    this.backlog = [];
    this.backlogBytes = 0;
  }

  /** Moves the pending lines into one batch at the back of the backlog. */
  private seal(): void {
    if (this.pending.length === 0) return;
    const data = Buffer.from(this.pending.join(''));
    this.backlog.push({ data, lines: this.pending.length });
    this.backlogBytes += data.length;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** `written` bytes of the first batch reached the sink (a pipe may take part of it). */
  private advance(written: number): void {
    const batch = this.backlog[0]!;
    this.backlogBytes -= written;
    if (written >= batch.data.length) this.backlog.shift();
    else batch.data = batch.data.subarray(written);
  }

  private failed(err: NodeJS.ErrnoException): void {
    if (err.code === 'EAGAIN') {
      setTimeout(() => this.flush(), RETRY_MS).unref();
      return;
    }
    if (FATAL.has(err.code ?? '')) return this.kill();
    // ENOSPC and the like may pass: drop this batch, keep trying with the next lines.
    const batch = this.backlog.shift()!;
    this.backlogBytes -= batch.data.length;
    this.dropped += batch.lines;
  }

  private kill(): void {
    this.dead = true;
    for (const batch of this.backlog) this.dropped += batch.lines;
    this.dropped += this.pending.length;
    this.backlog = [];
    this.pending = [];
    this.backlogBytes = 0;
    this.pendingBytes = 0;
  }
}
