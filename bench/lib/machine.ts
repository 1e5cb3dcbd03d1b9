/**
 * The machine around a measurement (Linux /proc): all CPUs' busy time, so a round's CPU can be split
 * into bot, client (the bench: autocannon, walker, fake connector), database and everything else; and
 * the kind of disk a path is on (the bench's SQLite file belongs on the same kind of disk as `./data`,
 * not on a RAM-backed tmpfs).
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Busy CPU time of the whole machine so far (all CPUs, ms): everything but idle and iowait. */
export function machineBusyMs(procStat = readProcStat()): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return Number.NaN;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const busy = v[0]! + v[1]! + v[2]! + (v[5] ?? 0) + (v[6] ?? 0) + (v[7] ?? 0);
  return busy * 10; // USER_HZ = 100
}

function readProcStat(): string {
  try {
    return readFileSync('/proc/stat', 'utf8');
  } catch {
    return '';
  }
}

export interface Mount {
  mountPoint: string;
  fsType: string;
  device: string;
}

/** The mount a path is on (its nearest existing ancestor), from /proc/mounts text. */
export function mountOf(path: string, mounts = readMounts(), exists: (p: string) => boolean = existsSync): Mount | undefined {
  let p = resolve(path);
  while (!exists(p) && dirname(p) !== p) p = dirname(p);
  try {
    p = realpathSync(p);
  } catch {
    // keep as is (not on this machine's file system)
  }
  let best: Mount | undefined;
  for (const line of mounts.split('\n')) {
    const [device, mountPoint, fsType] = line.split(' ');
    if (!device || !mountPoint || !fsType) continue;
    const mp = mountPoint.replace(/\\040/g, ' ');
    const inside = mp === '/' || p === mp || p.startsWith(`${mp}/`);
    if (inside && (!best || mp.length >= best.mountPoint.length)) best = { mountPoint: mp, fsType, device };
  }
  return best;
}

function readMounts(): string {
  try {
    return readFileSync('/proc/mounts', 'utf8');
  } catch {
    return '';
  }
}

/** File systems that keep files in memory: a SQLite file there measures RAM, not a disk. */
export const MEMORY_FILESYSTEMS = new Set(['tmpfs', 'ramfs', 'devtmpfs']);
