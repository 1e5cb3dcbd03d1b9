/**
 * Migration 0008 drops the funnel table's index by conversation, 0022 narrows its kind index to the
 * kinds read by kind. A store that already holds funnel events (schema of 0007) is upgraded at open,
 * keeps its events, and reports the same numbers.
 */
import { describe, expect, it } from 'vitest';
import { loadFunnelEvents } from '../../src/funnel/query';
import { buildReport } from '../../src/funnel/report';
import { upgradeDialects } from '../storage/store-at-migration';

const WINDOW = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z') };
const BEFORE_0008 = '0007-bot-conversations';

/** Rows as the bot stored them before 0008: a run resolved in the Spam folder, a run abandoned, a run before the window. */
const STORED = [
  ['2026-11-19T23:00:00.000Z', 't:old', 'started', 'entry', null],
  ['2026-11-19T23:00:00.000Z', 't:old', 'turn', 'entry', null],
  ['2026-11-20T09:00:00.000Z', 't:1', 'started', 'entry', null],
  ['2026-11-20T09:00:00.000Z', 't:2', 'started', 'entry', null],
  ['2026-11-20T09:00:00.000Z', 't:1', 'step_entered', 'entry', null],
  ['2026-11-20T09:00:00.000Z', 't:2', 'step_entered', 'entry', null],
  ['2026-11-20T09:00:00.000Z', 't:1', 'turn', 'entry', null],
  ['2026-11-20T09:00:00.000Z', 't:2', 'turn', 'entry', null],
  ['2026-11-20T09:01:00.000Z', 't:old', 'turn', 'entry', null],
  ['2026-11-20T09:01:00.000Z', 't:1', 'answer', 'spamCheck', 'found'],
  ['2026-11-20T09:01:00.000Z', 't:1', 'step_entered', 'emailFound', null],
  ['2026-11-20T09:01:00.000Z', 't:1', 'outcome', 'emailFound', 'resolved'],
  ['2026-11-20T09:01:00.000Z', 't:1', 'turn', 'emailFound', null],
] as const;

describe.each(upgradeDialects)('upgrading a store with funnel events over $name', ({ at }) => {
  it('keeps the stored events and reports the same numbers without the index by conversation', async () => {
    const old = await at(BEFORE_0008);
    await old.db
      .insertInto('funnel_events')
      .values(STORED.map(([at, key, kind, step, value]) => ({ at, conversation_key: key, channel: 'msteams', locale: 'en', mode: 'self', kind, step, value })))
      .execute();
    const store = await old.upgrade();
    expect(await store.appliedMigrations()).toContain('0008-funnel-events-without-conversation-index');
    const indexes = await old.indexes(store, 'funnel_events');
    expect(indexes).not.toContain('funnel_events_conversation');
    // 0022: the kind index over the two kinds read by kind, built over the stored rows.
    expect(indexes).toContain('funnel_events_run_edges');
    expect(indexes).not.toContain('funnel_events_kind_at');

    const report = buildReport(await loadFunnelEvents(store.db, WINDOW), { ...WINDOW, now: new Date('2026-11-20T12:00:00Z'), idleMs: 30 * 60_000 });
    expect(report.total.conversations).toBe(2);
    expect(report.total.endings).toMatchObject({ resolved_spam_check: 1, abandoned: 1 });
    expect(report.total.reached).toEqual([
      { step: 'entry', conversations: 2 },
      { step: 'emailFound', conversations: 1 },
    ]);
    expect(report.total.medianTurns).toBe(1.5);
    expect(report.total.deflectionRate).toBe(0.5);
  });
});
