/**
 * One measured load on one target, with its CPU split: the target process (from /proc), the client
 * (this process: autocannon, the walker and the fake connector), PostgreSQL (every server process,
 * ./pg-cpu.ts, for a bot on PostgreSQL), and the rest of the machine. And the medians of rounds.
 */
import { loadavg } from 'node:os';
import type { Storage } from './bots';
import { callsPerTurn, noCalls, type ConnectorCalls } from './connector';
import { connector, progress, runId, shared } from './context';
import { runLoad, type LoadOptions, type LoadResult } from './load';
import { machineBusyMs } from './machine';
import { pgCpuDelta, type PgCpuDelta } from './pg-cpu';
import { runStatement } from './postgres';
import type { Running } from './processes';
import { settings } from './settings';
import { median, round } from './stats';
import type { ConversationOptions } from './walker';

export interface Measured extends LoadResult {
  /** CPU time of the target process per turn (ms): what a turn costs, and less noisy than turns/s on a shared machine. */
  cpuMsPerTurn: number;
  /** Of which its main thread's (the event loop); the rest is V8's GC helpers and the worker threads. */
  loopCpuMsPerTurn: number;
  /** KB the target process had read from the disk per turn: 0 while its store is in the page cache. */
  diskReadKBPerTurn: number;
  /** Of those, read by its main thread: what every turn in flight waited for (the rest, its worker threads). */
  loopDiskReadKBPerTurn: number;
  /** PostgreSQL per turn (ms), every server process (bot on PostgreSQL only). */
  dbCpuMsPerTurn?: number;
  db?: PgCpuDelta;
  /** CPU time of the bench process itself (autocannon, walker, fake connector) per turn (ms). */
  clientCpuMsPerTurn: number;
  /** The whole machine's busy CPU per turn, and what was neither target, client nor database. */
  machineCpuMsPerTurn: number;
  otherCpuMsPerTurn: number;
  connectorCallsPerTurn: ConnectorCalls & { total: number };
  /** Pressed cards replaced in the invoke's answer per turn. */
  cardsInResponsePerTurn: number;
  /** 1-minute load average when the round started (other work on the machine shows here). */
  loadAverage: number;
}

export const conversationOptions = (overrides: Partial<ConversationOptions> = {}): ConversationOptions => ({
  runId,
  channelId: 'msteams',
  serviceUrl: connector().url,
  maxTurns: settings.maxTurns,
  opener: 'conversationUpdate',
  delivery: settings.delivery,
  ...overrides,
});

export type What = Pick<LoadOptions, 'seconds' | 'conversations' | 'scripts' | 'record' | 'returning' | 'onLeft'> & {
  maxTurns?: number;
  storage?: Storage;
};

export async function load(target: Running, what: What): Promise<Measured> {
  const fake = connector();
  const callsBefore = fake.calls();
  const loadAverage = loadavg()[0]!;
  const pg = what.storage?.kind === 'postgres' && shared.pg?.available ? shared.pg : undefined;
  const dbBefore = await pg?.snapshot();
  const machineBefore = machineBusyMs();
  const cpuBefore = target.cpuMs();
  const loopCpuBefore = target.loopCpuMs();
  const readBefore = target.diskReadBytes();
  const loopReadBefore = target.loopDiskReadBytes();
  const clientBefore = process.cpuUsage();
  const { storage: _s, maxTurns, ...rest } = what;
  const result = await runLoad({
    url: target.url,
    connections: settings.connections,
    ...rest,
    ...(what.conversations ? { conversations: what.conversations } : { seconds: what.seconds ?? settings.seconds }),
    conversation: conversationOptions(maxTurns ? { maxTurns } : {}),
    connector: fake,
    firstConversation: shared.nextConversation,
    seed: settings.seed + shared.nextConversation,
    onProgress: what.conversations
      ? (p) => {
          if (p.turns % 20_000 === 0) progress(`  ${target.name}: ${p.finished} conversations, ${p.turns} turns`);
        }
      : undefined,
  });
  const perTurn = (ms: number) => ms / Math.max(1, result.turns);
  // A server with autovacuum off (this development VM) would let the bench database's dead rows pile up
  // round after round, which production's autovacuum clears: vacuumed here, in the round, so its CPU counts.
  if (pg && what.storage && pg.info.autovacuum !== 'on') await runStatement(what.storage.databaseUrl, 'VACUUM (ANALYZE)');
  const cpuMsPerTurn = perTurn(target.cpuMs() - cpuBefore);
  const loopCpuMsPerTurn = perTurn(target.loopCpuMs() - loopCpuBefore);
  const diskReadKBPerTurn = perTurn((target.diskReadBytes() - readBefore) / 1024);
  const loopDiskReadKBPerTurn = perTurn((target.loopDiskReadBytes() - loopReadBefore) / 1024);
  const client = process.cpuUsage(clientBefore);
  const clientCpuMsPerTurn = perTurn((client.user + client.system) / 1000);
  const machineCpuMsPerTurn = perTurn(machineBusyMs() - machineBefore);
  const dbAfter = await pg?.snapshot();
  const db = dbBefore && dbAfter && what.storage?.database ? pgCpuDelta(dbBefore, dbAfter, what.storage.database) : undefined;
  const dbCpuMsPerTurn = db ? perTurn(db.totalMs) : undefined;
  shared.nextConversation = result.nextConversation;
  const callsAfter = fake.calls();
  const allCalls = callsPerTurn(callsBefore, callsAfter, result.turns);
  // With connector delivery, the calls of the answered turns (their mailboxes), so that turns still in
  // flight when the load stopped do not count; unknown updates and unknown calls from the counters.
  const connectorCallsPerTurn =
    settings.delivery === 'connector'
      ? callsPerTurn(noCalls(), { ...result.connectorCalls, unknownUpdates: callsAfter.unknownUpdates - callsBefore.unknownUpdates, other: callsAfter.other - callsBefore.other }, result.turns)
      : allCalls;
  if (connectorCallsPerTurn.other > 0) progress(`  ${target.name}: ${Math.round(connectorCallsPerTurn.other * result.turns)} connector calls the fake connector does not know (answered 404)`);
  if (result.non2xx || result.errors || result.emptyReplies) {
    progress(`  ${target.name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.emptyReplies} empty replies; first: ${result.firstErrors.join(' | ')}`);
  }
  if (settings.delivery === 'expectReplies' && allCalls.total > 0) {
    progress(`  ${target.name}: ${Math.round(allCalls.total * result.turns)} outbound connector calls during expectReplies turns`);
  }
  return {
    ...result,
    cpuMsPerTurn,
    loopCpuMsPerTurn,
    diskReadKBPerTurn,
    loopDiskReadKBPerTurn,
    clientCpuMsPerTurn,
    ...(db ? { db, dbCpuMsPerTurn } : {}),
    machineCpuMsPerTurn,
    otherCpuMsPerTurn: machineCpuMsPerTurn - cpuMsPerTurn - clientCpuMsPerTurn - (dbCpuMsPerTurn ?? 0),
    connectorCallsPerTurn,
    cardsInResponsePerTurn: round(result.cardsInResponse / Math.max(1, result.turns), 3),
    loadAverage,
  };
}

export interface Summary {
  turnsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  cpuMsPerTurn: number;
  loopCpuMsPerTurn: number;
  diskReadKBPerTurn: number;
  loopDiskReadKBPerTurn: number;
  dbCpuMsPerTurn?: number;
  /** PostgreSQL's CPU per turn by part (medians of rounds): bench backends, background processes, exited children. */
  dbParts?: { backends: number; background: number; exited: number; otherDatabasesLeftOut: number; backgroundByKind: Record<string, number> };
  clientCpuMsPerTurn: number;
  machineCpuMsPerTurn: number;
  otherCpuMsPerTurn: number;
  connectorCallsPerTurn: ConnectorCalls & { total: number };
  /** Pressed cards replaced in the invoke's answer (Teams' Action.Execute), per turn: no connector call. */
  cardsInResponsePerTurn: number;
  rounds: { turnsPerSecond: number; p50: number; p95: number; p99: number; turns: number; errors: number; cpuMsPerTurn: number; dbCpuMsPerTurn?: number; loadAverage: number; offScriptTurns: number }[];
}

const med = (results: Measured[], f: (r: Measured) => number | undefined, digits = 3) => round(median(results.map(f).filter((v): v is number => v !== undefined)), digits);

export function summarise(results: Measured[]): Summary {
  const withDb = results.filter((r) => r.db);
  const per = (r: Measured, ms: number) => ms / Math.max(1, r.turns);
  const kinds = [...new Set(withDb.flatMap((r) => Object.keys(r.db!.backgroundMs)))];
  const calls = Object.fromEntries(Object.keys(results[0]?.connectorCallsPerTurn ?? {}).map((k) => [k, med(results, (r) => r.connectorCallsPerTurn[k as keyof ConnectorCalls])])) as unknown as Summary['connectorCallsPerTurn'];
  return {
    turnsPerSecond: med(results, (r) => r.turnsPerSecond, 1),
    p50: med(results, (r) => r.latencyMs.p50, 2),
    p95: med(results, (r) => r.latencyMs.p95, 2),
    p99: med(results, (r) => r.latencyMs.p99, 2),
    cpuMsPerTurn: med(results, (r) => r.cpuMsPerTurn),
    loopCpuMsPerTurn: med(results, (r) => r.loopCpuMsPerTurn),
    diskReadKBPerTurn: med(results, (r) => r.diskReadKBPerTurn, 2),
    loopDiskReadKBPerTurn: med(results, (r) => r.loopDiskReadKBPerTurn, 2),
    clientCpuMsPerTurn: med(results, (r) => r.clientCpuMsPerTurn),
    machineCpuMsPerTurn: med(results, (r) => r.machineCpuMsPerTurn),
    otherCpuMsPerTurn: med(results, (r) => r.otherCpuMsPerTurn),
    connectorCallsPerTurn: calls,
    cardsInResponsePerTurn: med(results, (r) => r.cardsInResponsePerTurn),
    ...(withDb.length
      ? {
          dbCpuMsPerTurn: med(withDb, (r) => r.dbCpuMsPerTurn),
          dbParts: {
            backends: med(withDb, (r) => per(r, r.db!.backendsMs)),
            background: med(withDb, (r) => per(r, Object.values(r.db!.backgroundMs).reduce((s, v) => s + v, 0))),
            exited: med(withDb, (r) => per(r, r.db!.exitedMs)),
            otherDatabasesLeftOut: med(withDb, (r) => per(r, r.db!.otherDatabasesMs)),
            backgroundByKind: Object.fromEntries(kinds.map((k) => [k, med(withDb, (r) => per(r, r.db!.backgroundMs[k] ?? 0), 4)])),
          },
        }
      : {}),
    rounds: results.map((r) => ({
      cpuMsPerTurn: round(r.cpuMsPerTurn, 3),
      ...(r.dbCpuMsPerTurn !== undefined ? { dbCpuMsPerTurn: round(r.dbCpuMsPerTurn, 3) } : {}),
      loadAverage: round(r.loadAverage, 2),
      turnsPerSecond: round(r.turnsPerSecond),
      p50: round(r.latencyMs.p50, 2),
      p95: round(r.latencyMs.p95, 2),
      p99: round(r.latencyMs.p99, 2),
      turns: r.turns,
      errors: r.non2xx + r.errors + r.emptyReplies,
      offScriptTurns: r.offScriptTurns,
    })),
  };
}

/** One line of progress for a measured round. */
export function roundLine(label: string, res: Measured): string {
  return `${label.padEnd(18)} ${res.turnsPerSecond.toFixed(0).padStart(6)} turns/s  p50 ${res.latencyMs.p50.toFixed(1)}  p99 ${res.latencyMs.p99.toFixed(1)} ms  cpu ${res.cpuMsPerTurn.toFixed(2)}${res.dbCpuMsPerTurn !== undefined ? ` + db ${res.dbCpuMsPerTurn.toFixed(2)}` : ''} (client ${res.clientCpuMsPerTurn.toFixed(2)}, other ${res.otherCpuMsPerTurn.toFixed(2)}) ms/turn  connector ${res.connectorCallsPerTurn.total.toFixed(2)}/turn  load ${res.loadAverage.toFixed(1)}  (${res.turns} turns, ${res.conversationsFinished} conversations${res.offScriptTurns ? `, ${res.offScriptTurns} off-script` : ''})`;
}
