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
  /** The batch the thread pool is writing now; kept out of the backlog so nothing writes it twice. */
  private inflight: Batch | undefined;
  private dead = false;
  private ending: (() => void) | undefined;
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
    this.writeNext();
  }

  /**
   * Writes the next sealed batch, if no write is in flight. A finished write goes on with the
   * batches already sealed but leaves the lines that came in meanwhile for the next flush (timer
   * or BATCH_BYTES): sealing them at once turned a fast sink (/dev/null, a pipe with a quick
   * reader) into one write per handful of lines, ~4 µs per request at 4k req/s. At the end, the
   * rest is sealed and written too.
   */
  private writeNext(): void {
    if (this.dead) return this.ended();
    if (this.inflight !== undefined) return;
    if (this.backlog.length === 0 && this.ending !== undefined) this.seal();
    const batch = this.backlog.shift();
    if (batch === undefined) return this.ended();
    this.backlogBytes -= batch.data.length;
    this.inflight = batch;
    write(this.fd, batch.data, 0, batch.data.length, null, (err, written) => {
      this.inflight = undefined;
      if ((err as NodeJS.ErrnoException | null)?.code === 'EAGAIN') {
        // A full non-blocking pipe: try again shortly rather than spinning on the thread pool.
        this.requeue(batch, 0);
        setTimeout(() => this.flush(), RETRY_MS).unref();
        return;
      }
      if (err) this.failed(batch, err);
      else if (written < batch.data.length) this.requeue(batch, written);
      this.writeNext();
    });
  }

  /** Clean exit: every held line written in order, or given up on after `timeoutMs`. */
  end(timeoutMs = 1000): Promise<void> {
    clearInterval(this.timer);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.ending = undefined;
        this.flushSync();
        resolve();
      }, timeoutMs);
      timer.unref();
      this.ending = () => {
        clearTimeout(timer);
        resolve();
      };
      this.flush();
    });
  }

  /**
   * Last resort for exit paths that cannot wait: writes the backlog synchronously, giving up
   * rather than hanging. A batch already in the thread pool finishes on its own.
   */
  flushSync(): void {
    clearInterval(this.timer);
    this.seal();
    for (let tries = 0; this.backlog.length > 0 && !this.dead && tries < 100; tries++) {
      const batch = this.backlog[0]!;
      try {
        const written = writeSync(this.fd, batch.data);
        this.backlog.shift();
        this.backlogBytes -= batch.data.length;
        if (written < batch.data.length) this.requeue(batch, written);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') this.kill();
      }
    }
    for (const batch of this.backlog) this.dropped += batch.lines;
    this.backlog = [];
    this.backlogBytes = 0;
  }

  /** Everything written (or dropped): an `end()` waiting for that may return. */
  private ended(): void {
    const ending = this.ending;
    this.ending = undefined;
    ending?.();
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

  /** A pipe took part of the batch: the rest goes first next time. */
  private requeue(batch: Batch, written: number): void {
    batch.data = batch.data.subarray(written);
    this.backlog.unshift(batch);
    this.backlogBytes += batch.data.length;
  }

  private failed(batch: Batch, err: NodeJS.ErrnoException): void {
    // ENOSPC and the like may pass: drop this batch, keep trying with the next lines.
    this.dropped += batch.lines;
    if (FATAL.has(err.code ?? '')) this.kill();
  }

  private kill(): void {
    this.dead = true;
    for (const batch of this.backlog) this.dropped += batch.lines;
    this.dropped += this.pending.length;
    this.backlog = [];
    this.pending = [];
    this.backlogBytes = 0;
    this.pendingBytes = 0;
    this.ended();
  }
}
