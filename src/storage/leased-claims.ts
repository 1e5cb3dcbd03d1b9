/**
 * Leased claims on the rows of a durable worker's table (case outbox, case additions, case update
 * notices, the Webex inbox, hand-off jobs, follow-ups), on both dialects. A worker claims up to N
 * due rows whose lease is free or has run out (`claimed_by` = its id, `claimed_until` = now + lease),
 * renews its claim on a row right before the work, and records the result, or gives the row back
 * for a later retry, only while the claim is still its own: a worker whose lease lapsed never
 * overwrites the result of the one that took the row over. On PostgreSQL the due rows are locked
 * `FOR UPDATE SKIP LOCKED` inside the claiming UPDATE, so instances claiming at once get disjoint
 * rows; SQLite has one writer anyway.
 *
 * The table names its lease columns `claimed_by` and `claimed_until` (and, when attempts are
 * counted, `attempts`), as every leased table of the migrations does.
 */
import type { Expression, ExpressionBuilder, Kysely, Selectable, SelectType, SqlBool, Updateable } from 'kysely';
import type { Store } from './store';

type Column<DB, TB extends keyof DB> = keyof DB[TB] & string;
/** A value of the key column, as the repository read it. */
type KeyOf<DB, TB extends keyof DB, K extends keyof DB[TB]> = SelectType<DB[TB][K]>;

/** A leased table, as its repository declares it (`DB`: the repository's tables, as it widens `store.db` with). */
export interface LeasedTable<DB, TB extends keyof DB & string, K extends Column<DB, TB>> {
  table: TB;
  /** The column that names one claimed row. */
  key: K;
  /** Rows not finished yet: only these are claimed and renewed (and settled, when asked). */
  open: (eb: ExpressionBuilder<DB, TB>) => Expression<SqlBool>;
  /** What else makes an open row due at `now` (ISO text), e.g. its next attempt time; default: nothing else. */
  due?: (eb: ExpressionBuilder<DB, TB>, now: string) => Expression<SqlBool>;
  /** The order in which due rows are claimed (the first `limit` of it). */
  order: readonly Column<DB, TB>[];
  /** `attempts + 1` on every claim, or on every settle (a recorded attempt); default: not counted here. */
  countAttempts?: 'onClaim' | 'onSettle';
}

export interface ClaimRequest {
  workerId: string;
  now: Date;
  leaseMs: number;
  limit: number;
  /** Claims of other workers count as run out (SQLite: one process owns the file, so theirs are gone). */
  takeOverOtherWorkers?: boolean;
}

export class LeasedClaims<DB, TB extends keyof DB & string, K extends Column<DB, TB>> {
  constructor(
    private readonly store: Pick<Store, 'kind' | 'db'>,
    private readonly spec: LeasedTable<DB, TB, K>,
  ) {}

  /**
   * Claims up to `limit` open, due rows held by no live claim, in the spec's order, for `workerId`
   * until `now + leaseMs`. Returns the claimed rows in no particular order.
   */
  async claim(req: ClaimRequest): Promise<Selectable<DB[TB]>[]> {
    const { key, order, due } = this.spec;
    const table = this.table;
    const now = req.now.toISOString();
    const until = new Date(req.now.getTime() + req.leaseMs).toISOString();
    const rows = await this.db()
      .updateTable(table)
      .set((eb) => ({ claimed_by: req.workerId, claimed_until: until, ...this.attempt(eb, 'onClaim') }))
      .where(key, 'in', (eb) => {
        let rows = eb
          .selectFrom(table)
          .select(key)
          .where((w) => this.open(w))
          .$if(due !== undefined, (q) => q.where((w) => due!(w as unknown as ExpressionBuilder<DB, TB>, now)))
          .where((w) =>
            w.or([w('claimed_until', 'is', null), w('claimed_until', '<', now), ...(req.takeOverOtherWorkers ? [w('claimed_by', '<>', req.workerId)] : [])]),
          );
        for (const column of order) rows = rows.orderBy(column);
        rows = rows.limit(req.limit);
        return this.store.kind === 'postgres' ? rows.forUpdate().skipLocked() : rows;
      })
      .returningAll()
      .execute();
    return rows as Selectable<DB[TB]>[];
  }

  /**
   * Extends `workerId`'s claim on an open row to `until`; with `now`, only a claim that has not run
   * out by then. False when the claim is no longer that worker's (or the row is finished): the
   * worker must then leave the row alone.
   */
  async renew(id: KeyOf<DB, TB, K>, claim: { workerId: string; until: Date; now?: Date }): Promise<boolean> {
    const { now } = claim;
    const r = await this.db()
      .updateTable(this.table)
      .set({ claimed_until: claim.until.toISOString() })
      .where(this.key, '=', id)
      .where((w) => this.open(w))
      .where('claimed_by', '=', claim.workerId)
      .$if(now !== undefined, (q) => q.where('claimed_until', '>=', now!.toISOString()))
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /**
   * Records the result of the work on a row (`fields`) and ends the claim, only while `workerId`
   * holds it (`whileOpen`: and the row is still open). False when another worker holds it now:
   * that worker's result is the one that stands.
   */
  async settle(id: KeyOf<DB, TB, K>, workerId: string, fields: Updateable<DB[TB]>, opts: { whileOpen?: boolean } = {}): Promise<boolean> {
    const r = await this.db()
      .updateTable(this.table)
      .set((eb) => ({ ...fields, ...this.attempt(eb, 'onSettle'), claimed_by: null, claimed_until: null }))
      .where(this.key, '=', id)
      .where('claimed_by', '=', workerId)
      .$if(opts.whileOpen === true, (q) => q.where((w) => this.open(w)))
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** Gives a row back after a failed attempt, still named as `workerId`'s: claimable again from `retryAt`. */
  async release(id: KeyOf<DB, TB, K>, workerId: string, retryAt: Date): Promise<void> {
    await this.db()
      .updateTable(this.table)
      .set({ claimed_until: retryAt.toISOString() })
      .where(this.key, '=', id)
      .where('claimed_by', '=', workerId)
      .execute();
  }

  /** Read when used (the store's `db` exists once it is open); untyped: the spec's columns were checked against `DB`. */
  private db(): Kysely<AnyTables> {
    return this.store.db as unknown as Kysely<AnyTables>;
  }

  private get table(): string {
    return this.spec.table;
  }

  private get key(): string {
    return this.spec.key;
  }

  private open(eb: ExpressionBuilder<AnyTables, string>): Expression<SqlBool> {
    return this.spec.open(eb as unknown as ExpressionBuilder<DB, TB>);
  }

  private attempt(eb: ExpressionBuilder<AnyTables, string>, when: 'onClaim' | 'onSettle') {
    return this.spec.countAttempts === when ? { attempts: eb('attempts', '+', 1) } : {};
  }
}

type AnyTables = Record<string, Record<string, any>>;
