import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { collectWhenIdle } from '../../src/workers/idle-gc';

const MiB = 1024 * 1024;

describe('collectWhenIdle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A process whose CPU and heap the test moves by hand; gc() frees all but `live` and gives the committed heap back. */
  function processModel(live = 80) {
    const state = { busyMs: 0, usedMiB: live, committedMiB: live + 20, collections: 0 };
    let seenBusyMs = 0;
    const opts = {
      gc: () => {
        state.collections += 1;
        state.usedMiB = live;
        state.committedMiB = live + 10;
      },
      checkMs: 1_000,
      busyShareSinceLast: () => {
        const share = (state.busyMs - seenBusyMs) / 1_000;
        seenBusyMs = state.busyMs;
        return share;
      },
      heap: () => ({ used: state.usedMiB * MiB, committed: state.committedMiB * MiB }),
    };
    return { state, opts };
  }

  /** Traffic: half a core busy, V8 collecting on its own but keeping the heap it grew. */
  function busy(state: { busyMs: number; usedMiB: number; committedMiB: number }, seconds: number) {
    for (let i = 0; i < seconds; i++) {
      state.busyMs += 500;
      state.usedMiB = 90;
      state.committedMiB += 40;
      vi.advanceTimersByTime(1_000);
    }
  }

  it('collects once when traffic has stopped with much committed heap unused, and once per quiet spell', () => {
    const { state, opts } = processModel();
    const idle = collectWhenIdle(opts);
    busy(state, 5);
    expect(state.collections).toBe(0);
    vi.advanceTimersByTime(2_000); // two quiet looks
    expect(state.collections).toBe(1);
    expect(state.committedMiB).toBe(90);
    vi.advanceTimersByTime(60_000);
    expect(state.collections).toBe(1);
    // The next burst and the quiet after it: one more.
    busy(state, 3);
    vi.advanceTimersByTime(5_000);
    expect(state.collections).toBe(2);
    idle.stop();
  });

  it('never collects while the process is busy, however large the heap grew', () => {
    const { state, opts } = processModel();
    const idle = collectWhenIdle(opts);
    busy(state, 30);
    expect(state.collections).toBe(0);
    idle.stop();
  });

  it('leaves a quiet process alone when there is little to gain', () => {
    const { state, opts } = processModel();
    const idle = collectWhenIdle({ ...opts, minGainBytes: 32 * MiB });
    state.usedMiB += 10;
    state.committedMiB += 10;
    vi.advanceTimersByTime(30_000);
    expect(state.collections).toBe(0);
    idle.stop();
  });

  it('sets no timer without an exposed gc', () => {
    const idle = collectWhenIdle({ gc: undefined, checkMs: 1_000 });
    expect(vi.getTimerCount()).toBe(0);
    idle.stop();
  });
});
