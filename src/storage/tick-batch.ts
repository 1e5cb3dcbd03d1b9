/**
 * Collects the requests made during one pass of the event loop and hands them to `flush` together
 * (on `setImmediate`, after the I/O callbacks of the pass). Each request's promise settles with its
 * own result. Requests with the same `key` never share a batch: a later one waits for the next.
 *
 * With `maxInFlight`, at most that many flushes run at once; requests made meanwhile wait and go
 * together in the next batch as soon as one ends (group commit). A request made while nothing is in
 * flight goes at once, as without the limit.
 */
export interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

export interface TickBatchOptions<I> {
  /** Requests with the same key never share a batch. */
  keyOf?: (item: I) => string;
  /** Flushes running at once, at most (default: no limit). */
  maxInFlight?: number;
}

export class TickBatch<I, O> {
  private queue: Pending<I, O>[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly keyOf?: (item: I) => string;
  private readonly maxInFlight: number;

  constructor(
    private readonly flush: (batch: Pending<I, O>[]) => Promise<void>,
    options: TickBatchOptions<I> = {},
  ) {
    this.keyOf = options.keyOf;
    this.maxInFlight = options.maxInFlight ?? Number.POSITIVE_INFINITY;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    this.scheduled = false;
    if (this.queue.length === 0 || this.inFlight >= this.maxInFlight) return;
    let batch = this.queue;
    this.queue = [];
    if (this.keyOf) {
      const seen = new Set<string>();
      const later: Pending<I, O>[] = [];
      batch = batch.filter((p) => {
        const key = this.keyOf!(p.item);
        if (!seen.has(key)) return seen.add(key);
        later.push(p);
        return false;
      });
      if (later.length) this.queue.unshift(...later);
    }
    this.inFlight++;
    // Requests left for the next batch (a key already in this one) go once this flush allows.
    if (this.queue.length) this.schedule();
    try {
      await this.flush(batch);
    } catch (err) {
      // A flush settles every request itself; this is a last resort so none is left hanging.
      for (const p of batch) p.reject(err);
    } finally {
      this.inFlight--;
      if (this.queue.length) this.schedule();
    }
  }
}
