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
      (item) => item.key,
    );
    await Promise.all([batch.add({ key: 'x', n: 1 }), batch.add({ key: 'y', n: 1 }), batch.add({ key: 'x', n: 2 }), batch.add({ key: 'x', n: 3 })]);
    expect(flushes).toEqual([['x1', 'y1'], ['x2'], ['x3']]);
  });

  it('rejects every request of a flush that throws instead of leaving them waiting', async () => {
    const batch = new TickBatch<number, void>(async () => {
      throw new Error('database gone');
    });
    await expect(Promise.all([batch.add(1), batch.add(2)])).rejects.toThrow('database gone');
  });
});
