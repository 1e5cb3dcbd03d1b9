import { describe, expect, it } from 'vitest';
import { TickBatch, type Pending } from '../../src/storage/tick-batch';

describe('TickBatch', () => {
  it('hands the requests of one pass of the event loop to one flush, and settles each with its own result', async () => {
    const flushes: string[][] = [];
    const batch = new TickBatch<string, string>(async (items: Pending<string, string>[]) => {
      flushes.push(items.map((p) => p.item));
      for (const p of items) {
        if (p.item === 'bad') p.reject(new Error('refused'));
        else p.resolve(p.item.toUpperCase());
      }
    });
    const results = await Promise.allSettled(['a', 'bad', 'c'].map((x) => batch.add(x)));
    expect(flushes).toEqual([['a', 'bad', 'c']]);
    expect(results).toEqual([
      { status: 'fulfilled', value: 'A' },
      { status: 'rejected', reason: new Error('refused') },
      { status: 'fulfilled', value: 'C' },
    ]);
    await batch.add('later');
    expect(flushes).toEqual([['a', 'bad', 'c'], ['later']]);
  });

  it('never puts two requests with the same key in one batch', async () => {
    const flushes: string[][] = [];
    const batch = new TickBatch<{ key: string; n: number }, void>(
      async (items) => {
        flushes.push(items.map((p) => `${p.item.key}${p.item.n}`));
        for (const p of items) p.resolve();
      },
      { keyOf: (item) => item.key },
    );
    await Promise.all([batch.add({ key: 'x', n: 1 }), batch.add({ key: 'y', n: 1 }), batch.add({ key: 'x', n: 2 }), batch.add({ key: 'x', n: 3 })]);
    expect(flushes).toEqual([['x1', 'y1'], ['x2'], ['x3']]);
  });

  it('with a limit, runs that many flushes at once and sends what came meanwhile together in the next', async () => {
    const flushes: number[][] = [];
    const release: (() => void)[] = [];
    let running = 0;
    let mostAtOnce = 0;
    const batch = new TickBatch<number, number>(
      async (items) => {
        flushes.push(items.map((p) => p.item));
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        await new Promise<void>((r) => release.push(r));
        running--;
        for (const p of items) p.resolve(p.item * 10);
      },
      { maxInFlight: 1 },
    );
    const first = batch.add(1);
    await new Promise((r) => setImmediate(r));
    // The first flush is running: these wait for it, whatever the passes of the event loop.
    const waiting = [batch.add(2)];
    await new Promise((r) => setImmediate(r));
    waiting.push(batch.add(3), batch.add(4));
    await new Promise((r) => setImmediate(r));
    expect(flushes).toEqual([[1]]);
    release.shift()!();
    expect(await first).toBe(10);
    for (let i = 0; i < 5 && flushes.length < 2; i++) await new Promise((r) => setImmediate(r));
    expect(flushes).toEqual([[1], [2, 3, 4]]);
    release.shift()!();
    expect(await Promise.all(waiting)).toEqual([20, 30, 40]);
    expect(mostAtOnce).toBe(1);
  });

  it('with a limit, a flush that throws still lets the next batch go', async () => {
    let calls = 0;
    const batch = new TickBatch<number, number>(
      async (items) => {
        calls++;
        if (calls === 1) throw new Error('database gone');
        for (const p of items) p.resolve(p.item);
      },
      { maxInFlight: 1 },
    );
    const failed = batch.add(1);
    const next = batch.add(2);
    await expect(failed).rejects.toThrow('database gone');
    await expect(next).rejects.toThrow('database gone');
    expect(await batch.add(3)).toBe(3);
  });

  it('rejects every request of a flush that throws instead of leaving them waiting', async () => {
    const batch = new TickBatch<number, void>(async () => {
      throw new Error('database gone');
    });
    await expect(Promise.all([batch.add(1), batch.add(2)])).rejects.toThrow('database gone');
  });
});
