import { describe, expect, it } from 'vitest';
import { machineBusyMs, mountOf } from '../../bench/lib/machine';
import { parseStat, pgCpuDelta, type PgSnapshot } from '../../bench/lib/pg-cpu';

describe('CPU from /proc', () => {
  it('reads a process stat line, whose command name may hold spaces and parentheses', () => {
    const stat = '2239 (postgres: 15/main: a (b) c) S 2238 2238 2238 0 -1 4194368 300 0 0 0 150 30 7 3 20 0 1 0 2000 1000 500';
    expect(parseStat(stat)).toEqual({ ppid: 2238, selfMs: 1800, childrenMs: 100 });
  });

  it('counts the machine busy, not idle or waiting for I/O', () => {
    expect(machineBusyMs('cpu  100 5 50 1000 40 3 2 1 0 0\ncpu0 1 2 3\n')).toBe((100 + 5 + 50 + 3 + 2 + 1) * 10);
  });
});

describe("PostgreSQL's CPU, every server process", () => {
  const snap = (postmaster: [number, number], children: [number, number, string, string | null][]): PgSnapshot => ({
    postmaster: { ppid: 1, selfMs: postmaster[0], childrenMs: postmaster[1] },
    children: new Map(children.map(([pid, ms, kind, database]) => [pid, { ms, kind, database }])),
  });

  it('adds backends, background processes and children that exited, and leaves out other databases', () => {
    const before = snap([100, 1000], [
      [10, 50, 'client backend', 'bench_db'],
      [11, 20, 'walwriter', null],
      [12, 30, 'checkpointer', null],
      [13, 500, 'client backend', 'test'],
      [14, 40, 'client backend', 'bench_db'], // exits during the measurement
    ]);
    const after = snap([105, 1000 + 70 + 15], [
      [10, 250, 'client backend', 'bench_db'],
      [11, 35, 'walwriter', null],
      [12, 31, 'checkpointer', null],
      [13, 900, 'client backend', 'test'],
      [15, 8, 'autovacuum worker', 'bench_db'], // born during the measurement
    ]);
    // The exited backend lived to 70 ms (40 of them before); another child came and went with 15.
    const d = pgCpuDelta(before, after, 'bench_db');
    expect(d.backendsMs).toBe(200);
    expect(d.backgroundMs).toEqual({ postmaster: 5, walwriter: 15, checkpointer: 1, 'autovacuum worker': 8 });
    expect(d.exitedMs).toBe(70 + 15 - 40);
    expect(d.otherDatabasesMs).toBe(400);
    expect(d.totalMs).toBe(200 + 5 + 15 + 1 + 8 + 45);
  });
});

describe('the disk a path is on', () => {
  const mounts = ['/dev/vda / ext4 rw 0 0', 'tmpfs /tmp tmpfs rw 0 0', '/dev/vdb /work/data xfs rw 0 0', ''].join('\n');
  const exists = (p: string) => ['/', '/tmp', '/work', '/work/data'].includes(p);
  it('is the longest mount point above it (of the nearest directory that exists)', () => {
    expect(mountOf('/tmp/x/y.sqlite', mounts, exists)).toMatchObject({ mountPoint: '/tmp', fsType: 'tmpfs' });
    expect(mountOf('/work/data/bot.sqlite', mounts, exists)).toMatchObject({ fsType: 'xfs' });
    expect(mountOf('/work/database', mounts, exists)).toMatchObject({ mountPoint: '/', fsType: 'ext4' });
  });
});
