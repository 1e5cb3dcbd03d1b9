/**
 * Issue 23 in the funnel report, from a seeded set on SQLite and PostgreSQL: "did this help?" per
 * ending, language, channel and mode, what became of the follow-ups accepted in the window, and the
 * share of the endings solved without a case that a follow-up later confirmed. The follow-up's and
 * the rating's own steps stay out of the guide's runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FollowupsRepository, type NewFollowup } from '../../src/followups/repository';
import { SatisfactionRepository, type NewRating } from '../../src/followups/satisfaction-repository';
import { loadFunnelEvents } from '../../src/funnel/query';
import { renderReportPage } from '../../src/funnel/page';
import { renderReport } from '../../src/funnel/render';
import { buildReport } from '../../src/funnel/report';
import { loadSatisfactionReport } from '../../src/funnel/satisfaction-query';
import { createTranslator } from '../../src/i18n';
import type { SqlStore } from '../../src/storage/index';
import type { FunnelEvent, TurnCommit } from '../../src/storage/store';
import { postgresHarness, sqliteHarness, type StoreHarness } from '../storage/harness';
import { funnelEvent } from '../funnel/events';

const WINDOW = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-23T00:00:00Z') };

/** `at`: day and time of November 2026, `20T10:00`. */
const event = (conversationKey: string, at: string, kind: FunnelEvent['kind'], step: string, value?: string, over: Partial<FunnelEvent> = {}): FunnelEvent =>
  funnelEvent(conversationKey, `2026-11-${at}:00.000Z`, kind, step, value, over);

/** Four runs: three solved without a case (one confirmed the next day by a follow-up), one to a case. */
const FUNNEL: FunnelEvent[] = [
  event('k1', '20T09:00', 'started', 'entry'),
  event('k1', '20T09:02', 'outcome', 'changeConfirmed', 'resolved'),
  event('k1', '20T09:03', 'step_entered', 'afterCheckBackSet'),
  event('k1', '21T09:03', 'step_entered', 'followupAsk'),
  event('k1', '21T09:04', 'outcome', 'followupConfirmed', 'confirmed_by_followup'),
  event('k2', '20T10:00', 'started', 'entry', undefined, { locale: 'uk' }),
  event('k2', '20T10:05', 'outcome', 'forwardToOwner', 'forwarded_to_owner', { locale: 'uk' }),
  event('k3', '20T11:00', 'started', 'entry', undefined, { channel: 'webex' }),
  event('k3', '20T11:02', 'outcome', 'emailFound', 'resolved', { channel: 'webex' }),
  event('k4', '20T12:00', 'started', 'entry', undefined, { mode: 'agent' }),
  event('k4', '20T12:09', 'outcome', 'opened', 'case_opened', { mode: 'agent' }),
];

const rating = (id: string, at: string, over: Partial<NewRating>): NewRating => ({
  id,
  flow: 'provisioning-contact',
  ending: 'changeConfirmed',
  outcome: 'resolved',
  locale: 'en',
  channel: 'msteams',
  mode: 'self',
  rating: 'up',
  at: `2026-11-${at}:00.000Z`,
  ...over,
});

const followup = (id: string, conversationKey: string, createdAt: string): NewFollowup => ({
  id,
  conversationKey,
  ending: 'changeConfirmed',
  channel: 'msteams',
  mode: 'self',
  hours: 24,
  dueAt: '2026-11-21T09:03:00.000Z',
  createdAt: `2026-11-${createdAt}:00.000Z`,
});

async function commit(store: SqlStore, key: string, turn: number, extra: Partial<TurnCommit>) {
  const at = WINDOW.from.toISOString();
  await store.commitTurn({
    conversation: { key, channel: 'msteams', flowId: 'x', flowVersion: 1, snapshot: null, locale: 'en', parents: [], turn, userId: 'u', createdAt: at, updatedAt: at },
    transcript: [],
    ...extra,
  });
}

async function seed(store: SqlStore): Promise<void> {
  new FollowupsRepository(store);
  new SatisfactionRepository(store);
  await commit(store, 'test:seed', 1, {
    funnel: FUNNEL,
    satisfaction: {
      rated: [
        rating('r1', '20T09:03', {}),
        rating('r2', '20T10:06', { ending: 'forwardToOwner', outcome: 'forwarded_to_owner', locale: 'uk', rating: 'down' }),
        rating('r3', '20T11:03', { ending: 'emailFound', channel: 'webex' }),
        rating('r4', '20T12:10', { flow: 'support-case', ending: 'opened', outcome: 'case_opened', mode: 'agent', rating: 'down' }),
        // Outside the window.
        rating('r5', '23T09:00', { rating: 'down' }),
      ],
      commented: [{ id: 'r2', comment: 'The person who placed the order never answered' }],
    },
    followups: { scheduled: [followup('f1', 'msteams:k1', '20T09:03'), followup('f2', 'msteams:k2', '20T10:06'), followup('f3', 'msteams:k3', '20T11:03')] },
  });
  // f1 asked and answered; f2 cancelled by the person writing; f3 still waiting.
  await store.db.withTables<{ followups: { id: string; status: string; answer: string | null } }>().updateTable('followups').set({ status: 'fired', answer: 'arrived' }).where('id', '=', 'f1').execute();
  await commit(store, 'msteams:k2', 1, { followups: { cancelled: [{ conversationKey: 'msteams:k2', reason: 'wrote', at: '2026-11-20T11:00:00.000Z' }] } });
}

describe.each([
  ['sqlite', sqliteHarness],
  ['postgres', postgresHarness],
] as const)('"did this help?" and follow-ups in the funnel report (%s)', (_name, makeHarness: () => StoreHarness) => {
  const harness = makeHarness();
  let store: SqlStore;

  beforeAll(async () => {
    store = await harness.open();
    await seed(store);
  });
  afterAll(() => harness.cleanup());

  it('counts ratings per ending, language, channel and mode, the follow-ups, and the share confirmed', async () => {
    const report = buildReport(await loadFunnelEvents(store.db, WINDOW), { ...WINDOW, now: WINDOW.to, idleMs: 30 * 60_000 });
    // The follow-up's and the rating's own steps are not runs of the guide: four runs, three solved.
    expect(report.total.conversations).toBe(4);
    expect(report.total.deflected).toBe(3);
    const s = await loadSatisfactionReport(store.db, WINDOW, report.total.deflected);
    expect(s.total).toEqual({ up: 2, down: 2, share: 0.5, comments: 1 });
    expect(s.byEnding).toEqual({
      changeConfirmed: { up: 1, down: 0, share: 1 },
      emailFound: { up: 1, down: 0, share: 1 },
      forwardToOwner: { up: 0, down: 1, share: 0 },
      opened: { up: 0, down: 1, share: 0 },
    });
    expect(s.byLocale).toEqual({ en: { up: 2, down: 1, share: 2 / 3 }, uk: { up: 0, down: 1, share: 0 } });
    expect(s.byChannel).toEqual({ msteams: { up: 1, down: 2, share: 1 / 3 }, webex: { up: 1, down: 0, share: 1 } });
    expect(s.byMode).toEqual({ agent: { up: 0, down: 1, share: 0 }, self: { up: 2, down: 1, share: 2 / 3 } });
    expect(s.followups).toEqual({ accepted: 3, pending: 1, fired: 1, cancelled: 1, dropped: 0, arrived: 1, notArrived: 0 });
    expect([s.endings, s.confirmedByFollowup, s.confirmedShare]).toEqual([3, 1, 1 / 3]);

    report.satisfaction = s;
    const translator = createTranslator();
    const en = renderReport(report, translator, 'en');
    expect(en).toContain('Ratings at the endings: 4, 1 with a comment');
    expect(en).toContain('All endings: 👍 2, 👎 2 (helped: 50%)');
    expect(en).toContain('Language: Ukrainian (uk): 👍 0, 👎 1 (helped: 0%)');
    expect(en).toContain('Mode: agent triage: 👍 0, 👎 1 (helped: 0%)');
    expect(en).toMatch(/Still waiting\s+1/);
    expect(en).toContain('Endings solved without a case: 3; confirmed later by a follow-up: 1 (33.3%).');
    const uk = renderReport(report, translator, 'uk');
    expect(uk).toContain('Завершень без звернення в підтримку: 3; згодом підтверджено повторним запитанням: 1 (33,3%).');
    const page = await renderReportPage(report, translator, 'en');
    expect(page).toContain('<section id="satisfaction">');
    expect(page).toContain('<td>Ending changeConfirmed</td>');
  });
});
