/**
 * PostgreSQL plans each named statement once per connection, often while the tables are small and
 * never analysed (a new database; autovacuum off, as on these machines), and keeps that plan as the
 * tables grow. The statements every turn runs must therefore read rows by key whatever the planner
 * knew: a plan that scans a table costs every turn more as the table grows (issue 19: the load, the
 * reply marks and the follow-up updates scanned every row, dead ones included, for every batch).
 * Here each statement is planned as the server would plan it on a fresh schema (a generic plan) and
 * no table of the turn is scanned, except by a step the executor skips unless its rows are given.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepConversationReference } from '../../src/channels/botframework/reference-writer';
import { keepTurnReplies } from '../../src/channels/botframework/replies-repository';
import { owedStatement } from '../../src/channels/botframework/owed-replies';
import { markStatement } from '../../src/channels/botframework/reply-marks';
import { writeFollowups } from '../../src/followups/followups-writer';
import { writeSatisfaction } from '../../src/followups/satisfaction-writer';
import { createStore } from '../../src/storage';
import { LOAD_TURNS_PG, commitTurnsSql } from '../../src/storage/pg-turn-sql';
import type { SqlStore } from '../../src/storage/sql-store';
import { dropPostgresSchema, silentLogger, TEST_DATABASE_URL, uniqueName } from '../support';

const TURN_TABLES = ['conversations', 'bot_replies', 'undelivered_replies', 'followups', 'satisfaction', 'transcript_entries', 'funnel_events', 'user_locales', 'conversation_references'];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'One-Time Filter'?: string;
  Plans?: PlanNode[];
}

/** The tables a plan scans whole, and whether a one-time filter (a condition checked once, before any row) gates the scan. */
function seqScans(node: PlanNode, gated = false, out: { table: string; gated: boolean }[] = []) {
  const isGated = gated || node['One-Time Filter'] !== undefined;
  if (node['Node Type'] === 'Seq Scan' && node['Relation Name']) out.push({ table: node['Relation Name'], gated: isGated });
  for (const child of node.Plans ?? []) seqScans(child, isGated, out);
  return out;
}

const schema = uniqueName('turn_plans');
let store: SqlStore;
let client: pg.Client;

/** The statement's generic plan: what a connection keeps for it after preparing it on these tables. */
async function genericPlan(name: string, text: string): Promise<PlanNode> {
  await client.query(`prepare ${name} as ${text}`);
  const types = (await client.query<{ parameter_types: string[] }>('select parameter_types::text[] from pg_prepared_statements where name = $1', [name])).rows[0]!.parameter_types;
  const args = types.map((t) => (t === 'jsonb' ? `'[]'::jsonb` : t.endsWith('[]') ? `'{}'::${t}` : `null::${t}`));
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`explain (format json) execute ${name}(${args.join(', ')})`);
  return rows[0]!['QUERY PLAN'][0].Plan;
}

describe('the statements of a turn on PostgreSQL, planned on new tables', () => {
  beforeAll(async () => {
    // The schema's tables as migrations leave them: empty, never analysed.
    store = createStore({ DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema } as never, silentLogger);
    await store.open();
    client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    await client.query(`set search_path = "${schema}"`);
    await client.query('set plan_cache_mode = force_generic_plan');
  });

  afterAll(async () => {
    await client?.end();
    await store?.close();
    await dropPostgresSchema(schema);
  });

  it('the load reads each conversation by its key', async () => {
    const scans = seqScans(await genericPlan('load_turns', LOAD_TURNS_PG));
    expect(scans.filter((s) => TURN_TABLES.includes(s.table))).toEqual([]);
  });

  it('the reply marks find each row by its key', async () => {
    const rows = 'unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::int[]) as r(key, turn, worker, done, finished)';
    const scans = seqScans(await genericPlan('reply_marks', markStatement('postgres', rows)));
    expect(scans.filter((s) => TURN_TABLES.includes(s.table))).toEqual([]);
  });

  it('"owed?" reads each conversation\'s kept replies and notices by its key', async () => {
    const scans = seqScans(await genericPlan('owed_replies', owedStatement('postgres', 'unnest($1::text[], $2::int[]) as r(key, turn)')));
    expect(scans.filter((s) => TURN_TABLES.includes(s.table))).toEqual([]);
  });

  it('the commit scans a table only in steps that run when the batch has their rows (follow-up answers and cancellations, comments)', async () => {
    const plan = await genericPlan('commit_turns', commitTurnsSql([writeFollowups, writeSatisfaction, keepConversationReference, keepTurnReplies]));
    const scans = seqScans(plan).filter((s) => TURN_TABLES.includes(s.table));
    expect(scans.filter((s) => !s.gated)).toEqual([]);
  });
});
