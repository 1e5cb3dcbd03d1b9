/**
 * The loop behind the durable workers (case outbox, reply outbox, Webex inbox), on a fake clock:
 * when passes run, what a failed one does, and how a worker waits for it at shutdown and drain.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../src/log';
import { PollLoop } from '../../src/workers/poll-loop';

const POLL_MS = 1_000;

function deferred(): { promise: Promise<number>; resolve(n: number): void } {
  let resolve!: (n: number) => void;
  const promise = new Promise<number>((r) => (resolve = r));
  return { promise, resolve };
}

function loopOver(pass: () => Promise<number>, logger = { warn: vi.fn() }) {
  const results: number[] = [];
  const loop = new PollLoop<number>({
    name: 'test worker',
    pass,
    more: (n) => n >= 10,
    failed: -1,
    pollMs: POLL_MS,
    logger: logger as unknown as Logger,
    onPass: (n) => results.push(n),
  });
  return { loop, results, logger };
}

describe('PollLoop', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs the first pass at start, the next at once after a full pass and after pollMs otherwise', async () => {
    const answers = [10, 3, 0];
    const { loop, results } = loopOver(async () => answers.shift() ?? 0);
    loop.start();
    await vi.advanceTimersByTimeAsync(1);
    expect(results).toEqual([10, 3]);
    await vi.advanceTimersByTimeAsync(POLL_MS - 10);
    expect(results).toEqual([10, 3]);
    await vi.advanceTimersByTimeAsync(20);
    expect(results).toEqual([10, 3, 0]);
    await loop.stop();
  });

  it('logs a failed pass, counts it as `failed` and tries again after pollMs', async () => {
    let calls = 0;
    const { loop, results, logger } = loopOver(async () => {
      calls += 1;
      if (calls === 1) throw new Error('database away');
      return 0;
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(results).toEqual([-1]);
    expect(logger.warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.any(Error) }), 'test worker pass failed; will try again');
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(results).toEqual([-1, 0]);
    await loop.stop();
  });

  it('says a pass is running while it runs, and idle() resolves when it has finished', async () => {
    const gate = deferred();
    const { loop, results } = loopOver(() => gate.promise);
    expect(loop.passing).toBe(false);
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(loop.passing).toBe(true);
    let idle = false;
    const waiting = loop.idle().then(() => (idle = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(idle).toBe(false);
    gate.resolve(1);
    await waiting;
    expect(results).toEqual([1]);
    expect(loop.passing).toBe(false);
    await loop.stop();
  });

  it('stop() waits for the pass in progress, and no pass follows it', async () => {
    const gate = deferred();
    let calls = 0;
    const { loop } = loopOver(() => {
      calls += 1;
      return gate.promise;
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    gate.resolve(10); // a full pass would ask for another at once
    await stopping;
    await vi.advanceTimersByTimeAsync(10 * POLL_MS);
    expect(calls).toBe(1);
  });
});
