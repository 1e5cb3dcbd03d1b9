/**
 * Migration 0022: the funnel's kind index holds only `started` and `outcome` rows (the kinds read by
 * kind), not the ~3 rows every turn writes. The queries that find rows by kind (the report's runs
 * begun in a window, the resolved and confirmed counts, the hand-off metric) still answer right and
 * still go through that index on both dialects, PostgreSQL's generic plan included: a kind sent as
 * a bound value would leave the planner unable to use a partial index, and it would read every row.
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandoffRepository } from '../../src/handoff/repository';
import { loadHandoffReport } from '../../src/funnel/handoff-report';
import { loadFunnelEvents } from '../../src/funnel/query';
import { loadSatisfactionReport } from '../../src/funnel/satisfaction-query';
import type { SqlStore } from '../../src/storage/index';
import type { Database } from '../../src/storage/schema';
import type { FunnelEvent } from '../../src/storage/store';
import { TEST_DATABASE_URL } from '../support';
import { postgresHarness, sqliteHarness } from '../storage/harness';
import { funnelEvent as event, storeFunnelEvents } from './events';

const WINDOW = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z') };
/** Rows every turn writes, none of them read by kind: enough that reading them all is the costly plan. */
const FILLER_ROWS = 20_000;

async function seed(store: SqlStore): Promise<void> {
  const funnel: FunnelEvent[] = [
    event('msteams:a', '2026-11-20T09:00:00.000Z', 'started', 'entry'),
    event('msteams:a', '2026-11-20T09:01:00.000Z', 'step_entered', 'spamCheck'),
    event('msteams:a', '2026-11-20T09:02:00.000Z', 'outcome', 'solved', 'resolved_by_person'),
    event('msteams:a', '2026-11-20T09:02:00.000Z', 'turn', 'solved'),
    event('msteams:b', '2026-11-20T10:00:00.000Z', 'started', 'entry'),
    event('msteams:b', '2026-11-20T10:05:00.000Z', 'outcome', 'solved', 'confirmed_by_followup'),
    // Begun before the window: its run is not the window's.
    event('msteams:c', '2026-11-19T10:00:00.000Z', 'started', 'entry'),
    event('msteams:c', '2026-11-20T11:00:00.000Z', 'outcome', 'solved', 'resolved_by_person'),
  ];
  await storeFunnelEvents(store, funnel, WINDOW.from.toISOString());
}

describe.each([
  ['sqlite', sqliteHarness],
  ['postgres', postgresHarness],
] as const)('the funnel kind index (%s)', (dialect, makeHarness) => {
  const harness = makeHarness();
  let store: SqlStore;
  let logged: Kysely<Database>;
  // Plain queries on the same connection (`logged.destroy()` closes it).
  let raw: { all(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]> };
  const statements: { sql: string; parameters: readonly unknown[] }[] = [];
  const log = (e: { level: string; query: { sql: string; parameters: readonly unknown[] } }) => {
    if (e.level === 'query') statements.push({ sql: e.query.sql, parameters: e.query.parameters });
  };

  beforeAll(async () => {
    store = await harness.open();
    await seed(store);
    // The same database through a Kysely that records every statement the report functions send.
    if (dialect === 'sqlite') {
      const file = (harness as ReturnType<typeof sqliteHarness>).path;
      const db = new BetterSqlite3(file);
      db.exec(`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${FILLER_ROWS})
        insert into funnel_events (at, conversation_key, channel, locale, mode, kind, step, value)
        select strftime('%Y-%m-%dT%H:%M:%fZ', '2026-11-01', '+' || (i % 2000000) || ' seconds'), 'msteams:f' || i, 'msteams', 'en', 'self', 'turn', 'entry', null from n`);
      db.exec('analyze');
      logged = new Kysely<Database>({ dialect: new SqliteDialect({ database: db }), log });
      raw = { all: async (sql, params = []) => db.prepare(sql).all(...params) as Record<string, unknown>[] };
    } else {
      const schema = (harness as ReturnType<typeof postgresHarness>).schema;
      const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, options: `-c search_path="${schema}"`, max: 1 });
      await pool.query(`insert into funnel_events (at, conversation_key, channel, locale, mode, kind, step, value)
        select timestamptz '2026-11-01' + i * interval '1 second', 'msteams:f' || i, 'msteams', 'en', 'self', 'turn', 'entry', null
        from generate_series(1, ${FILLER_ROWS}) as i`);
      await pool.query('analyze funnel_events');
      logged = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log });
      raw = { all: async (sql, params = []) => (await pool.query(sql, params as unknown[])).rows };
    }
  });

  afterAll(async () => {
    await logged?.destroy();
    await harness.cleanup();
  });

  it('holds only the kinds read by kind, in place of the index of every row', async () => {
    const indexes =
      dialect === 'sqlite'
        ? await raw.all(`select name, sql as definition from sqlite_master where type = 'index' and tbl_name = 'funnel_events' order by name`)
        : await raw.all(`select indexname as name, indexdef as definition from pg_indexes where tablename = 'funnel_events' and schemaname = current_schema() order by 1`);
    const names = indexes.map((i) => i.name);
    expect(names).toContain('funnel_events_run_edges');
    expect(names).not.toContain('funnel_events_kind_at');
    const definition = String(indexes.find((i) => i.name === 'funnel_events_run_edges')!.definition);
    expect(definition).toMatch(/started/);
    expect(definition).toMatch(/outcome/);
    expect(definition).not.toMatch(/'turn'|step_entered|'answer'/);
  });

  it('the report, its counts and the hand-off metric answer as before, through that index', async () => {
    statements.length = 0;
    const events = await loadFunnelEvents(logged, WINDOW);
    // Runs begun in the window (a and b), every event of theirs from the window's start on.
    expect([...new Set(events.map((e) => e.conversationKey))]).toEqual(['msteams:a', 'msteams:b']);
    expect(events.filter((e) => e.conversationKey === 'msteams:a').map((e) => e.kind)).toEqual(['started', 'step_entered', 'outcome', 'turn']);
    expect((await loadHandoffReport(logged, WINDOW)).resolvedByPerson).toBe(2);
    expect((await loadSatisfactionReport(logged, WINDOW, 2)).confirmedByFollowup).toBe(1);
    const metric = new HandoffRepository({ kind: dialect, db: logged, registerTurnWriter: () => {} } as never);
    expect(await metric.countResolved()).toBe(2);

    const byKind = statements.filter((s) => /"kind" = /.test(s.sql));
    // The report's subquery, its resolved count, the satisfaction count, the metric.
    expect(byKind).toHaveLength(4);
    for (const s of byKind) {
      const plan = await planOf(s.sql, s.parameters);
      expect(plan, s.sql).toMatch(/funnel_events_run_edges/);
    }
  });

  /** SQLite's plan, or PostgreSQL's generic plan (what a connection keeps for a statement run often). */
  async function planOf(sql: string, parameters: readonly unknown[]): Promise<string> {
    if (dialect === 'sqlite') return (await raw.all(`explain query plan ${sql}`, parameters)).map((r) => r.detail).join('\n');
    await raw.all(`set plan_cache_mode = force_generic_plan`);
    await raw.all(`deallocate all`);
    await raw.all(`prepare by_kind as ${sql}`);
    const args = parameters.map((p) => (typeof p === 'number' ? String(p) : `'${String(p).replace(/'/g, "''")}'`));
    const rows = await raw.all(`explain execute by_kind${args.length ? `(${args.join(', ')})` : ''}`);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }
});
