/**
 * Grows the stored conversations to a target count by copying real ones. The templates are
 * conversations the bot itself served through `POST /api/messages` (so every row was written by the
 * store's own `commitTurn`); each copy is an INSERT … SELECT of those very rows with only the keys
 * renamed (`bench-<run>-<n>` becomes `bench-<run>-c<copy>-<n>`), so the copies are identical rows,
 * including transcripts, funnel events, processed-activity marks and per-user languages, and, with
 * connector delivery, the Bot Framework channel's rows keyed by conversation (its conversation
 * reference and kept replies), so a million stored conversations have a million of those too.
 *
 * Only the tables in COPIED_TABLES are copied (each keyed by conversation or user, so a renamed row
 * cannot collide); other tables are listed in the report if they hold rows of the templates (cases
 * have numbers of their own), so nothing is copied that could break a unique key. The report lists
 * the templates copied, so the bench can send returning people to any copy (./returning.ts).
 */
import BetterSqlite3 from 'better-sqlite3';
import { closeSync, fsyncSync, openSync, statSync } from 'node:fs';
import pg from 'pg';

export const STORE_TABLES = ['conversations', 'transcript_entries', 'processed_activities', 'user_locales', 'funnel_events'] as const;
/** The Bot Framework channel's tables keyed by conversation (migrations 0007, 0012). */
export const CHANNEL_TABLES = ['conversation_references', 'bot_replies'] as const;
export const COPIED_TABLES: readonly string[] = [...STORE_TABLES, ...CHANNEL_TABLES];

export interface Column {
  name: string;
  kind: 'text' | 'json' | 'other';
  /** Generated on insert (rowid alias, identity, serial): left out of the copy. */
  generated: boolean;
}

export interface SeedTarget {
  dialect: 'sqlite' | 'postgres';
  /** SQLite file path or PostgreSQL URL. */
  location: string;
}

export interface SeedProgress {
  conversations: number;
}

function sqliteColumns(db: BetterSqlite3.Database, table: string): Column[] {
  const rows = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; type: string; pk: number }[];
  return rows.map((r) => {
    const type = r.type.toUpperCase();
    return {
      name: r.name,
      kind: type.includes('JSON') ? 'json' : type === '' || type.includes('TEXT') || type.includes('CHAR') ? 'text' : 'other',
      generated: r.pk === 1 && type === 'INTEGER' && rows.filter((x) => x.pk > 0).length === 1,
    };
  });
}

async function pgColumns(client: pg.Client, table: string): Promise<Column[]> {
  const { rows } = await client.query<{ column_name: string; data_type: string; column_default: string | null; is_identity: string }>(
    `SELECT column_name, data_type, column_default, is_identity FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((r) => ({
    name: r.column_name,
    kind: r.data_type === 'jsonb' || r.data_type === 'json' ? 'json' : r.data_type === 'text' || r.data_type.includes('char') ? 'text' : 'other',
    generated: r.is_identity === 'YES' || (r.column_default ?? '').startsWith('nextval('),
  }));
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The template rows of a table: the prefix followed by a digit in a text column (copies have `c` there). */
function templateFilter(dialect: 'sqlite' | 'postgres', columns: Column[], prefix: string): string {
  return columns
    .filter((c) => c.kind !== 'other')
    .map((c) => (dialect === 'sqlite' ? `${quote(c.name)} GLOB '*${prefix}[0-9]*'` : `${quote(c.name)}::text ~ '${prefix}[0-9]'`))
    .join(' OR ');
}

/**
 * Statements for one table: keep its template rows in a temporary table once (so each batch reads
 * only those, not the whole growing table), then `INSERT INTO t (...) SELECT <renamed> FROM tpl, copies`.
 */
function copyStatements(dialect: 'sqlite' | 'postgres', table: string, columns: Column[], prefix: string): { keep: string; copy: string } {
  const kept = columns.filter((c) => !c.generated);
  const tpl = quote(`tpl_${table}`);
  const renamed = (c: Column) => {
    const asText = dialect === 'postgres' && c.kind === 'json' ? `${quote(c.name)}::text` : quote(c.name);
    const copyTag = dialect === 'sqlite' ? `'${prefix}c' || copies.i || '-'` : `'${prefix}c' || copies.i::text || '-'`;
    const expr = `replace(${asText}, '${prefix}', ${copyTag})`;
    return dialect === 'postgres' && c.kind === 'json' ? `(${expr})::jsonb` : expr;
  };
  const select = kept.map((c) => (c.kind === 'other' ? quote(c.name) : renamed(c))).join(', ');
  const names = kept.map((c) => quote(c.name)).join(', ');
  return {
    keep: `CREATE TEMP TABLE ${tpl} AS SELECT ${names} FROM ${quote(table)} WHERE ${templateFilter(dialect, columns, prefix)}`,
    copy: `INSERT INTO ${quote(table)} (${names}) SELECT ${select} FROM ${tpl}, copies`,
  };
}

export interface SeedReport {
  conversations: number;
  copiesMade: number;
  seconds: number;
  skippedTables: string[];
  /** Tables copied (those of COPIED_TABLES the store has). */
  copiedTables: string[];
  /** Ids of the conversations copied (`bench-<run>-<n>`, the conversation key without its channel). */
  templates: string[];
  /** Copy numbers made by this call: firstCopy..copiesMade (none when firstCopy > copiesMade). */
  firstCopy: number;
}

/**
 * Copies the template conversations (keys starting `prefix` + digit) until at least `target`
 * conversations are stored. Copy numbers start after those already made (`copiesSoFar`).
 */
export async function replicateConversations(
  target: SeedTarget,
  prefix: string,
  goal: number,
  copiesSoFar: number,
  onProgress: (p: SeedProgress) => void,
): Promise<SeedReport> {
  if (!/^[A-Za-z0-9-]+$/.test(prefix)) throw new Error(`unsafe prefix ${prefix}`);
  const t0 = performance.now();
  const batch = async (
    countAll: () => Promise<number>,
    countTemplates: () => Promise<number>,
    copy: (from: number, to: number) => Promise<void>,
  ): Promise<number> => {
    const templates = await countTemplates();
    if (templates === 0) throw new Error('no template conversations to copy');
    let stored = await countAll();
    let copies = copiesSoFar;
    while (stored < goal) {
      const needed = Math.ceil((goal - stored) / templates);
      // About 50 000 conversations per statement: progress stays visible and transactions bounded.
      const k = Math.max(1, Math.min(needed, Math.floor(50_000 / templates)));
      await copy(copies + 1, copies + k);
      copies += k;
      stored = await countAll();
      onProgress({ conversations: stored });
    }
    return copies;
  };

  const skippedTables: string[] = [];
  let copiedTables: readonly string[] = [];
  let templateKeys: string[] = [];
  let copies: number;
  let conversations: number;
  if (target.dialect === 'sqlite') {
    const db = new BetterSqlite3(target.location);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = OFF');
      db.pragma('cache_size = -262144');
      const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[]).map((r) => r.name);
      db.pragma('temp_store = MEMORY');
      copiedTables = COPIED_TABLES.filter((t) => tables.includes(t));
      const plans = copiedTables.map((t) => copyStatements('sqlite', t, sqliteColumns(db, t), prefix));
      for (const p of plans) db.exec(p.keep);
      const statements = plans.map((p) => p.copy);
      for (const t of tables.filter((t) => !COPIED_TABLES.includes(t))) {
        const cols = sqliteColumns(db, t).filter((c) => c.kind !== 'other');
        if (cols.length === 0) continue;
        const hit = db.prepare(`SELECT 1 FROM ${quote(t)} WHERE ${templateFilter('sqlite', cols, prefix)} LIMIT 1`).get();
        if (hit) skippedTables.push(t);
      }
      const count = db.prepare('SELECT count(*) AS n FROM conversations');
      const countTpl = db.prepare('SELECT count(*) AS n FROM temp.tpl_conversations');
      templateKeys = (db.prepare('SELECT key FROM temp.tpl_conversations').all() as { key: string }[]).map((r) => r.key);
      copies = await batch(
        async () => (count.get() as { n: number }).n,
        async () => (countTpl.get() as { n: number }).n,
        async (from, to) => {
          const run = db.transaction(() => {
            for (const s of statements) {
              db.prepare(`WITH RECURSIVE copies(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM copies WHERE i < ${to}) ${s}`).run();
            }
          });
          run();
          db.pragma('wal_checkpoint(TRUNCATE)');
        },
      );
      conversations = (count.get() as { n: number }).n;
      db.exec('ANALYZE');
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
    // Written with synchronous = OFF: the OS still holds gigabytes to write back, which would compete
    // with the bot's own writes while it is measured. Measure the stored state, not the copy's tail.
    const fd = openSync(target.location, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } else {
    const client = new pg.Client({ connectionString: target.location });
    await client.connect();
    try {
      await client.query('SET synchronous_commit = off');
      const { rows } = await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
      );
      const tables = rows.map((r) => r.table_name);
      const statements: string[] = [];
      copiedTables = COPIED_TABLES.filter((x) => tables.includes(x));
      for (const t of copiedTables) {
        const plan = copyStatements('postgres', t, await pgColumns(client, t), prefix);
        await client.query(plan.keep);
        statements.push(plan.copy);
      }
      for (const t of tables.filter((x) => !COPIED_TABLES.includes(x))) {
        const cols = (await pgColumns(client, t)).filter((c) => c.kind !== 'other');
        if (cols.length === 0) continue;
        const hit = await client.query(
          `SELECT 1 FROM ${quote(t)} WHERE ${templateFilter('postgres', cols, prefix)} LIMIT 1`,
        );
        if (hit.rowCount) skippedTables.push(t);
      }
      templateKeys = (await client.query<{ key: string }>('SELECT key FROM tpl_conversations')).rows.map((r) => r.key);
      const countAll = async () => Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM conversations')).rows[0]!.n);
      copies = await batch(
        countAll,
        async () =>
          Number(
            (await client.query<{ n: string }>('SELECT count(*) AS n FROM tpl_conversations')).rows[0]!.n,
          ),
        async (from, to) => {
          await client.query('BEGIN');
          try {
            for (const s of statements) await client.query(`WITH copies(i) AS (SELECT generate_series(${from}, ${to})) ${s}`);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK');
            throw err;
          }
        },
      );
      conversations = await countAll();
      await client.query('VACUUM ANALYZE');
    } finally {
      await client.end();
    }
  }
  return {
    conversations,
    copiesMade: copies,
    firstCopy: copiesSoFar + 1,
    seconds: (performance.now() - t0) / 1000,
    skippedTables,
    copiedTables: [...copiedTables],
    templates: templateKeys.map((k) => k.slice(k.indexOf(':') + 1)).sort(),
  };
}

/** Bytes the store occupies: the SQLite file (after a checkpoint) or the PostgreSQL database. */
export async function storedBytes(target: SeedTarget): Promise<{ bytes: number; conversations: number; byTable: Record<string, number> }> {
  if (target.dialect === 'sqlite') {
    const db = new BetterSqlite3(target.location);
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
      const conversations = (db.prepare('SELECT count(*) AS n FROM conversations').get() as { n: number }).n;
      const pages = db.pragma('page_count', { simple: true }) as number;
      const free = db.pragma('freelist_count', { simple: true }) as number;
      const size = db.pragma('page_size', { simple: true }) as number;
      // Tables and their indexes (dbstat names each b-tree; indexes are attributed to their table).
      const byTable: Record<string, number> = {};
      const trees = db.prepare(`SELECT s.name AS name, coalesce(m.tbl_name, s.name) AS tbl, sum(s.pgsize) AS bytes FROM dbstat s LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY s.name`).all() as { tbl: string; bytes: number }[];
      for (const t of trees) byTable[t.tbl] = (byTable[t.tbl] ?? 0) + t.bytes;
      return { bytes: Math.max((pages - free) * size, 0) || statSync(target.location).size, conversations, byTable };
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: target.location });
  await client.connect();
  try {
    const conversations = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM conversations')).rows[0]!.n);
    const { rows } = await client.query<{ table_name: string; bytes: string }>(
      `SELECT table_name, pg_total_relation_size(format('%I.%I', table_schema, table_name)) AS bytes
         FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
    );
    const byTable = Object.fromEntries(rows.map((r) => [r.table_name, Number(r.bytes)]));
    return { bytes: rows.reduce((sum, r) => sum + Number(r.bytes), 0), conversations, byTable };
  } finally {
    await client.end();
  }
}
