/**
 * Collects the requests made during one pass of the event loop and hands them to `flush` together
 * (on `setImmediate`, after the I/O callbacks of the pass). Each request's promise settles with its
 * own result. Requests with the same `key` never share a batch: a later one waits for the next.
 */
export interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

export class TickBatch<I, O> {
  private queue: Pending<I, O>[] = [];
  private scheduled = false;

  constructor(
    private readonly flush: (batch: Pending<I, O>[]) => Promise<void>,
    private readonly keyOf?: (item: I) => string,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    this.scheduled = false;
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
      if (later.length) {
        this.queue.unshift(...later);
        this.schedule();
      }
    }
    try {
      await this.flush(batch);
    } catch (err) {
      // A flush settles every request itself; this is a last resort so none is left hanging.
      for (const p of batch) p.reject(err);
    }
  }
}
