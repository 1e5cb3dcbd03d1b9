import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { collectWhenIdle } from '../../src/workers/idle-gc';

describe('collectWhenIdle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A process whose CPU and heap the test moves by hand; gc() frees all but `live`. */
  function processModel(live = 80) {
    const state = { cpuMs: 0, heapMiB: live, collections: 0 };
    const gc = () => {
      state.collections += 1;
      state.heapMiB = live;
    };
    const opts = {
      gc,
      checkMs: 1_000,
      cpuMicros: () => state.cpuMs * 1000,
      heapUsed: () => state.heapMiB * 1024 * 1024,
    };
    return { state, opts };
  }

  it('collects once after traffic has stopped and the heap grew, and not again for the same heap', () => {
    const { state, opts } = processModel();
    const idle = collectWhenIdle(opts);
    // Traffic: half a core busy, the heap growing.
    for (let i = 0; i < 5; i++) {
      state.cpuMs += 500;
      state.heapMiB += 40;
      vi.advanceTimersByTime(1_000);
    }
    expect(state.collections).toBe(0);
    vi.advanceTimersByTime(2_000); // two quiet looks
    expect(state.collections).toBe(1);
    expect(state.heapMiB).toBe(80);
    vi.advanceTimersByTime(60_000);
    expect(state.collections).toBe(1);
    idle.stop();
  });

  it('never collects while the process is busy, however much the heap grew', () => {
    const { state, opts } = processModel();
    const idle = collectWhenIdle(opts);
    for (let i = 0; i < 30; i++) {
      state.cpuMs += 300;
      state.heapMiB += 20;
      vi.advanceTimersByTime(1_000);
    }
    expect(state.collections).toBe(0);
    idle.stop();
  });

  it('leaves a quiet process alone when the heap did not grow enough to be worth a collection', () => {
    const { state, opts } = processModel();
    const idle = collectWhenIdle({ ...opts, minGrowthBytes: 16 * 1024 * 1024 });
    state.heapMiB += 10;
    vi.advanceTimersByTime(30_000);
    expect(state.collections).toBe(0);
    idle.stop();
  });

  it('does nothing without an exposed gc', () => {
    const idle = collectWhenIdle({ gc: undefined, checkMs: 1_000 });
    expect(vi.getTimerCount()).toBe(0);
    idle.stop();
  });
});
