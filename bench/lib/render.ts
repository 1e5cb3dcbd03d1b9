/** The bench's printed tables (markdown, as README "Performance" shows them), from the report. */
import type { Summary } from './measure';
import { evaluateTargets, type TargetRow } from './targets';
import { describeReclaim, type ReclaimScheme } from './reclaim';

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? String(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(cells[0]!), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

type Row = Summary & { target: string; ratio: number; p99Ratio?: number; cpuRatio?: number; dbCpuMsPerTurnWholePhase?: number; offScriptShare?: number };

function throughput(out: string[], t: { delivery: string; connections: number; rounds: number; secondsPerRound: number; rows: Row[]; workload?: { walks: number; turnsPerConversation: { mean: number }; distinctPaths: number } }): void {
  const how = t.delivery === 'expectReplies' ? 'replies in the HTTP response (expectReplies)' : 'replies, card updates and member look-ups through the connector, pressed cards answered in the invoke';
  out.push(`Throughput, ${t.connections} concurrent conversations, ${how} (median of ${t.rounds} round(s) × ${t.secondsPerRound} s)`);
  if (t.workload) out.push(`Workload: ${t.workload.walks} recorded walks replayed by every target (${t.workload.turnsPerConversation.mean} turns per conversation on average, ${t.workload.distinctPaths} distinct paths)`);
  out.push(
    table(
      ['target', 'turns/s', 'p50 ms', 'p95 ms', 'p99 ms', 'ratio', 'p99 ratio', 'CPU ms/turn', 'CPU ratio', 'connector calls/turn', 'cards in invoke answer/turn'],
      t.rows.map((r) => [
        r.target,
        r.turnsPerSecond,
        r.p50,
        r.p95,
        r.p99,
        r.ratio,
        r.p99Ratio ?? 1,
        r.dbCpuMsPerTurn !== undefined ? `${r.cpuMsPerTurn} + db ${Math.max(r.dbCpuMsPerTurn, r.dbCpuMsPerTurnWholePhase ?? 0)}` : r.cpuMsPerTurn,
        r.cpuRatio ?? 1,
        r.connectorCallsPerTurn ? `${r.connectorCallsPerTurn.total} (${r.connectorCallsPerTurn.posts} post, ${r.connectorCallsPerTurn.updates} update, ${r.connectorCallsPerTurn.memberLookups} member)` : '?',
        r.cardsInResponsePerTurn ?? 0,
      ]),
    ),
  );
  out.push('', 'CPU per turn on the machine, ms (bot or echo process; client = this bench: autocannon, walker, fake connector; db = every PostgreSQL process)');
  out.push(
    table(
      ['target', 'bot', 'client', 'db', 'other', 'machine'],
      t.rows.map((r) => [r.target, r.cpuMsPerTurn, r.clientCpuMsPerTurn, r.dbCpuMsPerTurn ?? '-', r.otherCpuMsPerTurn, r.machineCpuMsPerTurn]),
    ),
  );
  for (const r of t.rows) {
    if (!r.dbParts) continue;
    const kinds = Object.entries(r.dbParts.backgroundByKind).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ');
    out.push(
      `${r.target}: PostgreSQL ${r.dbCpuMsPerTurn} ms/turn in its rounds = backends ${r.dbParts.backends} + background ${r.dbParts.background} (${kinds || 'none'}) + exited ${r.dbParts.exited}; over the whole phase ${r.dbCpuMsPerTurnWholePhase ?? '?'}; other databases' backends left out: ${r.dbParts.otherDatabasesLeftOut}`,
    );
  }
}

/** CPU per turn, the main thread's part in brackets (older reports have none). */
const cpu = (r: { cpuMsPerTurn: number; loopCpuMsPerTurn?: number }) => `${r.cpuMsPerTurn}${r.loopCpuMsPerTurn !== undefined ? ` [${r.loopCpuMsPerTurn}]` : ''}`;

/** KB read from the disk per turn, the main thread's part in brackets (older reports have none). */
const diskRead = (r: { diskReadKBPerTurn?: number; loopDiskReadKBPerTurn?: number }) =>
  `${r.diskReadKBPerTurn ?? '?'}${r.loopDiskReadKBPerTurn !== undefined ? ` [${r.loopDiskReadKBPerTurn}]` : ''}`;

type ReadAheadPerTurn = { warmed: number; overdue: number; recent: number; waitMs?: number };
type ScaleRow = Summary & { readAheadPerTurn?: ReadAheadPerTurn; pairedReadAheadPerTurn?: ReadAheadPerTurn; pagedOutMBDuringRounds?: number; storedAtStart: number; bytesPerConversation: number; storeBytes: number; relativeToFirst: number; pairedRelativeToFirst?: number; pairedFirst?: { storedAtStart: number; turnsPerSecond: number; cpuMsPerTurn: number; loopCpuMsPerTurn?: number; diskReadKBPerTurn?: number; loopDiskReadKBPerTurn?: number }; fresh: { p99: number }; returning: { share: number; p50: number; p99: number } };

/** The read-ahead's warm-ups per turn and those the turn stopped waiting for (`-` when the bot has none). */
function readAhead(r: ReadAheadPerTurn | undefined): string {
  return r ? `${r.warmed}, ${r.overdue}${r.waitMs !== undefined ? `, ${r.waitMs} ms` : ''}` : '-';
}

export function render(report: Record<string, unknown>): string {
  const out: string[] = [];
  const targets: TargetRow[] = evaluateTargets(report as Parameters<typeof evaluateTargets>[0]);
  if (targets.length) {
    out.push('Targets (issue 19)', table(['target', 'result', 'met?'], targets.map((r) => [r.target, r.result, r.met])), '');
  }
  const pg = report.postgres as { version: string; autovacuum: string; cpuUnavailable?: string } | undefined;
  if (pg) out.push(`PostgreSQL ${pg.version}, autovacuum ${pg.autovacuum}${pg.autovacuum === 'off' ? ' (production runs with it on; the bench vacuums its database at the end of each PostgreSQL round, its CPU counted in the round)' : ''}${pg.cpuUnavailable ? `; server CPU not measured: ${pg.cpuUnavailable}` : ''}`);
  const disk = report.disk as { workDir: string; fsType?: string; dataFsType?: string } | undefined;
  if (disk) out.push(`SQLite files in ${disk.workDir} (${disk.fsType ?? '?'}; ./data is on ${disk.dataFsType ?? '?'})`, '');
  const reclaim = describeReclaim((report.reclaim as ReclaimScheme[] | undefined) ?? []);
  if (reclaim) out.push(`Proactive reclaim on this machine: ${reclaim}`, '');
  const t = report.throughput as Parameters<typeof throughput>[1] | undefined;
  if (t) throughput(out, t);
  const s = report.scale as { store: string; returningShare: number; rows: ScaleRow[] } | undefined;
  if (s) {
    out.push('', `Stored conversations (${s.store}), ${Math.round(s.returningShare * 100)} % of turns by returning people (one turn on a stored conversation chosen at random)`);
    out.push(
      table(
        ['stored', 'turns/s', 'p50 ms', 'p99 ms', 'new p99', 'returning p50', 'returning p99', 'returning share', 'first level\'s copy, same rounds: turns/s', 'vs it', 'vs first level\'s rounds', 'bot CPU ms/turn [event loop] (copy\'s)', 'disk KB read/turn [by the event loop] (copy\'s)', 'read ahead/turn: warmed, overdue, mean wait (copy\'s)', 'paged out MB (rounds)', 'store MB', 'bytes/conv'],
        s.rows.map((r) => [
          r.storedAtStart,
          r.turnsPerSecond,
          r.p50,
          r.p99,
          r.fresh.p99,
          r.returning.p50,
          r.returning.p99,
          r.returning.share,
          r.pairedFirst ? `${r.pairedFirst.turnsPerSecond} (${r.pairedFirst.storedAtStart} stored)` : '',
          r.pairedRelativeToFirst ?? '',
          r.relativeToFirst,
          `${cpu(r)}${r.pairedFirst ? ` (${cpu(r.pairedFirst)})` : ''}`,
          `${diskRead(r)}${r.pairedFirst?.diskReadKBPerTurn !== undefined ? ` (${diskRead(r.pairedFirst)})` : ''}`,
          readAhead(r.readAheadPerTurn) + (r.pairedReadAheadPerTurn ? ` (${readAhead(r.pairedReadAheadPerTurn)})` : ''),
          r.pagedOutMBDuringRounds ?? '',
          Math.round(r.storeBytes / 1e5) / 10,
          r.bytesPerConversation,
        ]),
      ),
    );
  }
  const m = report.memory as { rows: (Record<string, number> & { startMode: string; heap?: Record<string, { heapUsedMiB: number } | undefined> })[] } | undefined;
  if (m) {
    const heap = (r: (typeof m.rows)[number], k: string) => (r.heap?.[k] ? Math.round(r.heap[k]!.heapUsedMiB * 10) / 10 : '?');
    out.push('', 'Memory of the bot process, MiB (RSS; V8 heap used in brackets, from its /metrics)');
    out.push(
      table(
        ['start', 'idle after start', 'idle after warm-up', 'after N conversations, 30 s idle', 'conversations (turns)', 'RSS growth'],
        m.rows.map((r) => [r.startMode, `${r.idleAfterStartMiB} (${heap(r, 'afterStart')})`, `${r.idleAfterWarmupMiB} (${heap(r, 'afterWarmup')})`, `${r.afterServedSettledMiB} (${heap(r, 'afterServedSettled')})`, `${r.conversationsServed} (${r.turnsServed})`, r.growthOverWarmIdleMiB!]),
      ),
    );
  }
  const nlu = report.nlu as { messages: number; trainMs: number; usPerMessage: number; usInModel: number; shareOfTurnCpu?: number } | undefined;
  if (nlu) {
    out.push('', `Free-text recognition (${nlu.messages} held-out phrasings, in process)`);
    out.push(
      table(
        ['µs per message', 'µs in the model', 'share of a turn’s CPU', 'training, all models'],
        [[nlu.usPerMessage, nlu.usInModel, nlu.shareOfTurnCpu !== undefined ? `${(nlu.shareOfTurnCpu * 100).toFixed(1)} %` : 'n/a (no throughput phase)', `${nlu.trainMs} ms`]],
      ),
    );
  }
  const st = report.startup as { runs: number; rows: { startMode: string; firstNpmStartMs?: number; npmStartMs: number; botProcessMs: number }[] } | undefined;
  if (st) {
    out.push('', `Start-up to the first 200 from /healthz (median of ${st.runs})`);
    out.push(table(['start', 'npm start', 'bot process alone', 'first npm start after a build'], st.rows.map((r) => [r.startMode, `${r.npmStartMs} ms`, `${r.botProcessMs} ms`, r.firstNpmStartMs === undefined ? '' : `${r.firstNpmStartMs} ms`])));
  }
  const c = report.compiled as { buildMs: number; rewrittenImports: number; typeErrors: number; copiedAssets: string[] } | undefined;
  if (c) out.push(`Compiled: tsc ${Math.round(c.buildMs / 100) / 10} s, ${c.rewrittenImports} relative imports needed ".js", assets copied: ${c.copiedAssets.join(', ') || 'none'}`);
  return out.join('\n');
}
