/**
 * Issue 22 item 6: "Talk to a person" in the funnel report, from a seeded set on SQLite and
 * PostgreSQL: requests made in the window, how many an engineer took and the median wait, how many
 * nobody took or the person withdrew, and the chats people called solved. The hand-off flow's own
 * events stay out of the guide's runs: a run that reached N9 still ended there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandoffRepository } from '../../src/handoff/repository';
import { loadHandoffReport } from '../../src/funnel/handoff-report';
import { handoffTextLines } from '../../src/funnel/handoff-render';
import { createReportPages } from '../../src/funnel/pages';
import { reportFormat } from '../../src/funnel/format';
import { buildReport } from '../../src/funnel/report';
import { createTranslator } from '../../src/i18n';
import type { SqlStore } from '../../src/storage/index';
import type { FunnelEvent } from '../../src/storage/store';
import { postgresHarness, sqliteHarness, type StoreHarness } from '../storage/harness';

const WINDOW = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-23T00:00:00Z') };

const event = (conversationKey: string, at: string, kind: FunnelEvent['kind'], step: string, value?: string): FunnelEvent => ({
  at,
  conversationKey,
  channel: 'webex',
  locale: 'en',
  mode: 'self',
  kind,
  step,
  ...(value ? { value } : {}),
});

async function seed(store: SqlStore, repository: HandoffRepository): Promise<void> {
  let n = 0;
  const handoff = (status: string, requestedAt: string, takenAfterMinutes?: number) =>
    repository.db
      .insertInto('handoffs')
      .values({
        id: `h${++n}`,
        conversation_key: `webex:c${n}`,
        status,
        channel: 'webex',
        locale: 'en',
        case_input: '{}',
        requested_at: requestedAt,
        wait_until: new Date(Date.parse(requestedAt) + 10 * 60_000).toISOString(),
        cards: '{}',
        ...(takenAfterMinutes === undefined ? {} : { taken_at: new Date(Date.parse(requestedAt) + takenAfterMinutes * 60_000).toISOString(), taken_by: 'olena@support.example.com' }),
      })
      .execute();
  await handoff('ended', '2026-11-20T10:00:00.000Z', 2);
  await handoff('ended', '2026-11-20T11:00:00.000Z', 4);
  await handoff('taken', '2026-11-21T09:00:00.000Z', 9);
  await handoff('expired', '2026-11-21T10:00:00.000Z');
  await handoff('cancelled', '2026-11-21T11:00:00.000Z');
  await handoff('waiting', '2026-11-22T23:55:00.000Z');
  // Outside the window.
  await handoff('ended', '2026-11-19T10:00:00.000Z', 1);
  await handoff('expired', '2026-11-23T00:00:00.000Z');
  await store.commitTurn({
    conversation: { key: 'test:funnel', channel: 'test', flowId: 'x', flowVersion: 1, snapshot: null, locale: 'en', parents: [], turn: 1, userId: 'u', createdAt: WINDOW.from.toISOString(), updatedAt: WINDOW.from.toISOString() },
    transcript: [],
    funnel: [
      event('webex:c1', '2026-11-20T10:20:00.000Z', 'outcome', 'solved', 'resolved_by_person'),
      event('webex:c2', '2026-11-20T11:30:00.000Z', 'outcome', 'toCase', 'needs_case'),
      event('webex:c7', '2026-11-19T10:30:00.000Z', 'outcome', 'solved', 'resolved_by_person'),
    ],
  });
}

describe.each([
  ['sqlite', sqliteHarness],
  ['postgres', postgresHarness],
] as const)('talk to a person in the funnel report (%s)', (_name, makeHarness: () => StoreHarness) => {
  const harness = makeHarness();
  let store: SqlStore;
  let repository: HandoffRepository;

  beforeAll(async () => {
    store = await harness.open();
    repository = new HandoffRepository(store);
    await seed(store, repository);
  });
  afterAll(() => harness.cleanup());

  it('counts the requests of the window by what became of them, with the median wait', async () => {
    expect(await loadHandoffReport(store.db, WINDOW)).toEqual({
      requested: 6,
      taken: 3,
      medianWaitSeconds: 240,
      unanswered: 1,
      withdrawn: 1,
      open: 2,
      resolvedByPerson: 1,
    });
  });

  it('prints them in both languages', async () => {
    const report = await loadHandoffReport(store.db, WINDOW);
    const translator = createTranslator();
    const en = handoffTextLines(report, reportFormat(translator, 'en')).join('\n');
    expect(en).toContain('== Talk to a person');
    expect(en).toMatch(/Hand-offs requested\s+6\n {2}Taken by an engineer\s+3\n {2}Median wait until taken\s+4 min\n {2}Nobody took it in time\s+1/);
    expect(en).toMatch(/Solved in the chat with an engineer\s+1/);
    const uk = handoffTextLines(report, reportFormat(translator, 'uk')).join('\n');
    expect(uk).toContain('== Розмова з людиною');
    expect(uk).toMatch(/Медіана очікування\s+4 хв/);
    expect(uk).toMatch(/Людина скасувала запит\s+1/);
  });

  it('is a section of the report page (GET /report)', async () => {
    const pages = createReportPages({ db: () => store.db, translator: createTranslator(), idleMinutes: 30, clock: () => new Date('2026-11-24T00:00:00Z') });
    const page = await pages.render({ from: '2026-11-20', to: '2026-11-23' });
    if (!page.ok) throw new Error(page.problems.join('; '));
    const section = page.html.slice(page.html.indexOf('<section id="handoff">'));
    expect(section).toContain('Talk to a person');
    expect(section).toMatch(/Hand-offs requested<\/td>\s*<td[^>]*>6</);
  });
});

describe('the hand-off flow beside the runs', () => {
  it('leaves a run that reached N9 ended in a case, whatever the hand-off flow did after it', () => {
    const e = (at: string, kind: FunnelEvent['kind'], step: string, value?: string) => event('k', `2026-11-20T${at}:00.000Z`, kind, step, value);
    const events = [
      e('09:00', 'started', 'entry'),
      e('09:05', 'outcome', 'needsCase', 'needs_case'),
      e('09:05', 'step_entered', 'offerAsk'),
      e('09:05', 'turn', 'offerAsk'),
      e('09:06', 'step_entered', 'requested'),
      e('09:06', 'outcome', 'requested', 'handoff_requested'),
      e('09:20', 'step_entered', 'solvedAsk'),
      e('09:21', 'outcome', 'solved', 'resolved_by_person'),
    ];
    const report = buildReport(events, { ...WINDOW, now: WINDOW.to, idleMs: 30 * 60_000 });
    expect(report.total.conversations).toBe(1);
    expect(report.total.endings.needs_case).toBe(1);
    expect(report.total.reached.map((r) => r.step)).not.toContain('offerAsk');
  });
});
