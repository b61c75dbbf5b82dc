/**
 * Unit tests: Request collapsing: waiters released together, each bounded by its own deadline.
 */
import { Coalescer } from './coalescer';

describe('Coalescer', () => {
  it('releases every waiter when the fill finishes and frees the key', async () => {
    const coalescer = new Coalescer();
    const fill = coalescer.begin('k');
    expect(coalescer.pending('k')).toBe(fill);
    const waits = [1, 2, 3].map(() => fill.wait(performance.now() + 10_000));
    fill.finish();
    await expect(Promise.all(waits)).resolves.toEqual(['filled', 'filled', 'filled']);
    expect(coalescer.pending('k')).toBeUndefined();
    expect(coalescer.size).toBe(0);
  });

  it('times a waiter out at its own deadline without touching the others', async () => {
    const fill = new Coalescer().begin('k');
    const short = fill.wait(performance.now() + 20);
    const long = fill.wait(performance.now() + 10_000);
    await expect(short).resolves.toBe('timeout');
    fill.finish();
    await expect(long).resolves.toBe('filled');
  });

  it('answers at once after the fill is done', async () => {
    const fill = new Coalescer().begin('k');
    fill.finish();
    fill.finish();
    await expect(fill.wait(performance.now() + 10)).resolves.toBe('filled');
  });

  it('a finished older fill does not free a newer one for the same key', () => {
    const coalescer = new Coalescer();
    const old = coalescer.begin('k');
    const newer = coalescer.begin('k');
    old.finish();
    expect(coalescer.pending('k')).toBe(newer);
  });
});
