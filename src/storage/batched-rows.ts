/**
 * One statement for every request made in a pass of the event loop, its requests passed as rows
 * (`r`): on SQLite one JSON array read with `json_each`, on PostgreSQL one array per column read
 * with `unnest` (short scalars, cheap for pg to encode: no JSON document needed here).
 * Each request gets the row the statement returned for it, if any. Fixed statement texts, so
 * SQLite's statement cache and PostgreSQL (a named statement, ./pg-named-statements.ts) prepare
 * them once, and no query builder on the hot path (the kept replies' sent-marks and "owed?"
 * look-ups, src/channels/botframework/).
 */
import { CompiledQuery, type Kysely } from 'kysely';
import type { StoreDialect } from './migrations/types';
import { nameStatement } from './pg-named-statements';
import { TickBatch, type Pending } from './tick-batch';

export interface RowColumn {
  name: string;
  /** The column's PostgreSQL type, for its array parameter (`text`, `int`, …). */
  pgType: string;
}

export interface BatchedRowsSpec<I, R> {
  columns: readonly RowColumn[];
  /** The request's values, in the order of `columns`. */
  values(item: I): unknown[];
  /** The statement, given the rows' source (`… as r`) to read them from. */
  statement(rows: string): string;
  /** Which request a returned row answers. */
  keyOf(item: I): string;
  rowKey(row: R): string;
  /** Requests with the same key go in separate statements (each must see the other's effect). */
  onePerKey?: boolean;
}

/** The rows' source clause, as `statement` uses it: `… as r` with the columns' names. */
function rowsSource(dialect: StoreDialect, columns: readonly RowColumn[]): string {
  if (dialect === 'postgres') {
    return `unnest(${columns.map((c, i) => `$${i + 1}::${c.pgType}[]`).join(', ')}) as r(${columns.map((c) => c.name).join(', ')})`;
  }
  const read = columns.map((c, i) => `json_extract(j.value, '$[${i}]') as ${c.name}`).join(', ');
  return `(select ${read} from json_each(?) as j) as r`;
}

export class BatchedRows<I, R> {
  private readonly batch: TickBatch<I, R | undefined>;
  private readonly text: string;

  constructor(
    private readonly db: () => Kysely<unknown>,
    private readonly dialect: StoreDialect,
    private readonly spec: BatchedRowsSpec<I, R>,
  ) {
    this.text = spec.statement(rowsSource(dialect, spec.columns));
    if (dialect === 'postgres') nameStatement(this.text);
    this.batch = new TickBatch((batch) => this.flush(batch), spec.onePerKey ? (item) => spec.keyOf(item) : undefined);
  }

  /** The row the statement returned for `item`, or undefined when it returned none. */
  run(item: I): Promise<R | undefined> {
    return this.batch.add(item);
  }

  private async flush(batch: Pending<I, R | undefined>[]): Promise<void> {
    const rows = batch.map((p) => this.spec.values(p.item));
    const params =
      this.dialect === 'postgres' ? this.spec.columns.map((_, i) => rows.map((r) => r[i])) : [JSON.stringify(rows)];
    try {
      const result = await this.db().executeQuery<R>(CompiledQuery.raw(this.text, params));
      const byKey = new Map(result.rows.map((r) => [this.spec.rowKey(r), r]));
      for (const p of batch) p.resolve(byKey.get(this.spec.keyOf(p.item)));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
