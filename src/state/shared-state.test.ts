/**
 * SharedState against a real redis-server: closing it while Redis is down leaves nothing behind
 * that would hold the process open, so a drained gateway exits at once, not seconds later. Run in
 * a child process (dist/, built by `pretest`) whose only work is this client, so "exits at once"
 * is what is measured.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { redisTestsEnabled, startRedis, type TestRedis } from '../../test/helpers/redis';
import { waitFor } from '../../test/helpers/wait';

const suite = redisTestsEnabled() ? describe : describe.skip;
const SHARED_STATE = join(__dirname, '..', '..', 'dist', 'state', 'shared-state.js');

/** Connects, waits for "kill" on stdin, waits for Redis to be seen down, closes; prints when. */
const CHILD = `
const { SharedState } = require(${JSON.stringify(SHARED_STATE)});
const log = { info() {}, warn() {}, error() {} };
const state = new SharedState({ url: process.argv[1], keyPrefix: 'bw-test:', log });
const poll = (cond, then) => (cond() ? then() : setTimeout(poll, 10, cond, then));
poll(() => state.up, () => {
  process.stdout.write('up\\n');
  process.stdin.once('data', () => poll(() => !state.up, () => {
    process.stdin.pause();
    state.close().then(() => process.stdout.write('closed ' + Date.now() + '\\n'));
  }));
});
`;

suite('SharedState', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.close();
  });

  it('closed while Redis is down, it leaves nothing that holds the process open', async () => {
    const child = spawn(process.execPath, ['-e', CHILD, redis.url], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = once(child, 'exit');
    await waitFor(() => out.includes('up\n'), `the child to connect (said: ${JSON.stringify(out)})`, 10_000);
    await redis.kill();
    child.stdin.end('kill\n');
    await exited;
    const exitedAt = Date.now();
    const closedAt = Number(/closed (\d+)/.exec(out)?.[1]);
    expect(closedAt).toBeGreaterThan(0);
    // ioredis' disconnect timer waits for a 'close' a dead stream never emits: its default ran
    // 2 s past the close. 3x slack over the 200 ms it is now.
    expect(exitedAt - closedAt).toBeLessThan(1000);
  }, 20_000);
});
