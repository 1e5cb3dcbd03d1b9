/**
 * Whether the store accepts writes, for `GET /readyz` (issue 15, item 4). A read can succeed while
 * every write fails (a full disk, a read-only file or mount, a PostgreSQL standby after a failover),
 * so the probe writes: it rewrites one row of `store_write_probe` (migration 0013) and commits.
 *
 * A success is trusted for `maxAgeMs` (1 s by default), so a load balancer or a flood of requests
 * costs at most one small write a second; a failure is never cached: the next request probes again,
 * so the instance is ready as soon as writes work. Requests that arrive while a probe runs share it.
 */
import type { Kysely } from 'kysely';
import type { Logger } from '../log';
import { isStaleConnectionError } from './errors';

export type Readiness = { ready: true } | { ready: false; reason: string };

type ProbeTable = {
  store_write_probe: { id: string; probed_at: string };
};

export interface WriteProbeOptions {
  /**
   * The store's database (`Store.db`; whatever its table types, the probe declares the one it writes);
   * asked for on every probe, so a closed store counts as not ready.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: () => Kysely<any>;
  logger: Logger;
  /** How long a successful probe answers for. Default 1000. */
  maxAgeMs?: number;
  /** A probe that has not finished by then counts as failed (the store is not taking writes in time). Default 2000. */
  timeoutMs?: number;
  clock?: () => number;
}

/** After a database restart every pooled connection is dead and fails fast once; this many tries reach a live one. */
const STALE_RETRIES = 16;

export class WriteProbe {
  private lastSuccess = Number.NEGATIVE_INFINITY;
  private running?: Promise<Readiness>;
  /** Logged on a change only, not on every probe. */
  private wasReady = true;
  private readonly clock: () => number;

  constructor(private readonly opts: WriteProbeOptions) {
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** Ready when a write committed within `maxAgeMs`, or a probe now commits one. */
  check(): Promise<Readiness> {
    if (this.clock() - this.lastSuccess < (this.opts.maxAgeMs ?? 1000)) return Promise.resolve({ ready: true });
    this.running ??= this.probe().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async probe(): Promise<Readiness> {
    let outcome: Readiness;
    try {
      await withTimeout(this.write(), this.opts.timeoutMs ?? 2000);
      this.lastSuccess = this.clock();
      outcome = { ready: true };
    } catch (err) {
      outcome = { ready: false, reason: 'the store does not accept writes' };
      if (this.wasReady) this.opts.logger.warn({ err }, 'readiness: the store does not accept writes');
    }
    if (outcome.ready && !this.wasReady) this.opts.logger.info('readiness: the store accepts writes again');
    this.wasReady = outcome.ready;
    return outcome;
  }

  private async write(): Promise<void> {
    for (let n = 0; ; n++) {
      try {
        const db = this.opts.db().withTables<ProbeTable>();
        const probedAt = new Date().toISOString();
        await db
          .insertInto('store_write_probe')
          .values({ id: 'probe', probed_at: probedAt })
          .onConflict((oc) => oc.column('id').doUpdateSet({ probed_at: probedAt }))
          .execute();
        return;
      } catch (err) {
        if (n >= STALE_RETRIES || !isStaleConnectionError(err)) throw err;
      }
    }
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  // A probe still running after the timeout settles on its own; nothing waits for it.
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
