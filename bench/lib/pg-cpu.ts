/**
 * All of PostgreSQL's CPU during a measurement (issue 19), not only the backends of the bench's
 * database: the postmaster, its background processes (WAL writer, checkpointer, background writer,
 * autovacuum launcher and workers, ...) and the backends, from /proc (the server must run on this
 * machine). A child that exits during the measurement is counted too: the postmaster reaps it, and
 * the kernel adds its CPU to the postmaster's `cutime`/`cstime`. Backends of other databases that are
 * alive are left out (another session's tests); those that came and went cannot be told apart and
 * stay in the count, so measure on a quiet server.
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

export interface ProcTimes {
  /** utime + stime, ms */
  selfMs: number;
  /** cutime + cstime (reaped children), ms */
  childrenMs: number;
  ppid: number;
}

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces and parentheses). */
export function parseStat(stat: string, ticksPerSecond = 100): ProcTimes {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ms = (i: number) => (Number(f[i]) * 1000) / ticksPerSecond;
  // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
  return { ppid: Number(f[1]), selfMs: ms(11) + ms(12), childrenMs: ms(13) + ms(14) };
}

export function procTimes(pid: number): ProcTimes | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface PgSnapshot {
  postmaster: ProcTimes;
  /** Live children: CPU, and what pg_stat_activity says they are. */
  children: Map<number, { ms: number; kind: string; database: string | null }>;
}

export interface PgCpuDelta {
  /** Every server process, less the live backends of other databases. */
  totalMs: number;
  /** Backends connected to the bench's database. */
  backendsMs: number;
  /** Background processes by kind (walwriter, checkpointer, background writer, autovacuum ...) and the postmaster. */
  backgroundMs: Record<string, number>;
  /** Children that exited during the measurement (any database). */
  exitedMs: number;
  /** Live backends of other databases, not counted. */
  otherDatabasesMs: number;
}

/** The CPU between two snapshots, split by what the processes are; `database` is the bench's. */
export function pgCpuDelta(before: PgSnapshot, after: PgSnapshot, database: string): PgCpuDelta {
  const background: Record<string, number> = { postmaster: after.postmaster.selfMs - before.postmaster.selfMs };
  let backends = 0;
  let other = 0;
  // Reaped children carry their whole life; what they had at `before` was counted then, not now.
  let exited = after.postmaster.childrenMs - before.postmaster.childrenMs;
  for (const [pid, b] of before.children) if (!after.children.has(pid)) exited -= b.ms;
  for (const [pid, a] of after.children) {
    const d = a.ms - (before.children.get(pid)?.ms ?? 0);
    if (a.kind === 'client backend' && a.database === database) backends += d;
    else if (a.kind === 'client backend' && a.database !== null) other += d;
    else background[a.kind] = (background[a.kind] ?? 0) + d;
  }
  const backgroundTotal = Object.values(background).reduce((s, v) => s + v, 0);
  return { totalMs: backends + backgroundTotal + exited, backendsMs: backends, backgroundMs: background, exitedMs: exited, otherDatabasesMs: other };
}

export interface PgServerInfo {
  version: string;
  autovacuum: string;
  synchronousCommit: string;
  sharedBuffers: string;
  postmasterPid?: number;
  /** Why the server's CPU cannot be read here, when it cannot. */
  cpuUnavailable?: string;
}

/** Watches one PostgreSQL server's processes through a connection of its own (to `adminUrl`). */
export class PgServerCpu {
  private constructor(
    private readonly client: pg.Client,
    readonly info: PgServerInfo,
  ) {}

  static async open(adminUrl: string): Promise<PgServerCpu> {
    const client = new pg.Client({ connectionString: adminUrl, application_name: 'bench-cpu-watch' });
    await client.connect();
    const setting = async (name: string) => String((await client.query<{ v: string }>(`SELECT current_setting($1) AS v`, [name])).rows[0]!.v);
    const pid = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    const own = procTimes(pid);
    const info: PgServerInfo = {
      version: await setting('server_version'),
      autovacuum: await setting('autovacuum'),
      synchronousCommit: await setting('synchronous_commit'),
      sharedBuffers: await setting('shared_buffers'),
      ...(own && procTimes(own.ppid) ? { postmasterPid: own.ppid } : { cpuUnavailable: 'the server runs elsewhere (its processes are not in /proc here)' }),
    };
    return new PgServerCpu(client, info);
  }

  get available(): boolean {
    return this.info.postmasterPid !== undefined;
  }

  async snapshot(): Promise<PgSnapshot | undefined> {
    const postmasterPid = this.info.postmasterPid;
    if (postmasterPid === undefined) return undefined;
    const { rows } = await this.client.query<{ pid: number; backend_type: string | null; datname: string | null }>(
      'SELECT pid, backend_type, datname FROM pg_stat_activity',
    );
    const known = new Map(rows.map((r) => [Number(r.pid), r]));
    const postmaster = procTimes(postmasterPid);
    if (!postmaster) return undefined;
    const children = new Map<number, { ms: number; kind: string; database: string | null }>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const t = procTimes(Number(entry));
      if (!t || t.ppid !== postmasterPid) continue;
      const row = known.get(Number(entry));
      children.set(Number(entry), { ms: t.selfMs, kind: row?.backend_type ?? 'other', database: row?.datname ?? null });
    }
    return { postmaster, children };
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
