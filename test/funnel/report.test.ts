import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import { Engine } from '../../src/engine/engine';
import type { Inbound } from '../../src/engine/types';
import { loadFunnelEvents } from '../../src/funnel/query';
import { renderReport } from '../../src/funnel/render';
import { buildReport, type FunnelReport } from '../../src/funnel/report';
import { createTranslator, loadResources, type Resources } from '../../src/i18n';
import { createStore, type SqlStore } from '../../src/storage/index';
import { entryFlow, fixtureResources, intakeFlow } from '../engine/fixture-flows';
import { silentLogger, tempDir, TEST_DATABASE_URL } from '../support';

const translator = createTranslator(fixtureResources as unknown as Resources);
const WINDOW = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z') };
const REPORT_NOW = new Date('2026-11-20T18:00:00Z');
const IDLE_MS = 30 * 60_000;

/**
 * Drives a set of conversations through the real engine and store, with a fake clock:
 * A resolved (msteams, en), B case opened (msteams, uk), C abandoned at the first step (webex),
 * D still in progress (webex), E abandoned in the case intake (msteams), F resolved and then started
 * over and abandoned (two runs), and one conversation before the window.
 */
async function driveConversations(store: SqlStore): Promise<void> {
  const { at, send } = driver(store);

  at('2026-11-19T12:00:00Z');
  await send('before', 'msteams', { kind: 'greeting' });
  await send('before', 'msteams', { text: 'yes' });

  at('2026-11-20T09:00:00Z');
  await send('A', 'msteams', { kind: 'greeting' });
  at('2026-11-20T09:01:00Z');
  await send('A', 'msteams', { choice: { id: 'yes', step: 'ask' } });

  at('2026-11-20T09:30:00Z');
  await send('B', 'msteams', { kind: 'greeting', locale: 'uk-UA' });
  await send('B', 'msteams', { text: 'ні', locale: 'uk-UA' });
  await send('B', 'msteams', { text: 'Лист не прийшов, моя адреса jane@example.com', locale: 'uk-UA' });

  at('2026-11-20T10:00:00Z');
  await send('C', 'webex', { kind: 'greeting' });

  at('2026-11-20T11:00:00Z');
  await send('E', 'msteams', { kind: 'greeting' });
  await send('E', 'msteams', { text: 'no' });

  at('2026-11-20T12:00:00Z');
  await send('F', 'msteams', { kind: 'greeting' });
  await send('F', 'msteams', { text: 'yes' });
  at('2026-11-20T12:05:00Z');
  await send('F', 'msteams', { text: 'start over' });

  at('2026-11-20T17:50:00Z');
  await send('D', 'webex', { kind: 'greeting' });
}

/** A window two days later, with runs across its edges (driven after the ones above). */
const EDGE_WINDOW = { from: new Date('2026-11-22T00:00:00Z'), to: new Date('2026-11-23T00:00:00Z') };

/**
 * G started before the window, went on into it and was started over in it (only the new run counts);
 * H started in the window and was resolved after it, then started over after it; I started after it.
 */
async function driveAcrossWindowEdges(store: SqlStore): Promise<void> {
  const { at, send } = driver(store);
  const script: [at: string, conversation: string, channel: string, activity: Partial<Inbound>][] = [
    ['2026-11-21T23:50:00Z', 'G', 'msteams', { kind: 'greeting' }],
    ['2026-11-22T00:10:00Z', 'G', 'msteams', { text: 'no' }],
    ['2026-11-22T01:00:00Z', 'G', 'msteams', { text: 'start over' }],
    ['2026-11-22T23:55:00Z', 'H', 'webex', { kind: 'greeting' }],
    ['2026-11-23T00:05:00Z', 'H', 'webex', { text: 'yes' }],
    ['2026-11-23T00:10:00Z', 'H', 'webex', { text: 'start over' }],
    ['2026-11-23T00:01:00Z', 'I', 'msteams', { kind: 'greeting' }],
  ];
  for (const [iso, conversation, channel, activity] of script) {
    at(iso);
    await send(conversation, channel, activity);
  }
}

/** The real engine over `store` with a clock the test sets (`at`). */
function driver(store: SqlStore) {
  let now = new Date('2026-11-19T12:00:00Z');
  const engine = new Engine({
    store,
    flow: entryFlow,
    flows: [intakeFlow],
    translator,
    logger: silentLogger,
    clock: () => now,
    actors: () => ({ openCase: fromPromise(async () => ({ reference: 'PCE-000042' })) }),
  });
  const at = (iso: string) => (now = new Date(iso));
  const user = { id: 'aad-7f3e', name: 'Jane Customer', email: 'jane@example.com' };
  const send = (conversationId: string, channel: string, extra: Partial<Inbound>) =>
    engine.handle({ channel, conversationId, user, locale: 'en-US', ...extra });
  return { at, send };
}

const dialects = [
  {
    name: 'SQLite',
    open: async () => {
      const dir = tempDir('funnel-report-');
      const store = createStore(`sqlite:${dir.join('bot.sqlite')}`, silentLogger);
      await store.open();
      return { store, cleanup: async () => dir.remove() };
    },
  },
  {
    name: 'PostgreSQL',
    open: async () => {
      const schema = `funnel_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      const store = createStore({ DATABASE_URL: TEST_DATABASE_URL, DATABASE_POOL_SIZE: 2, DATABASE_SCHEMA: schema }, silentLogger);
      await store.open();
      return {
        store,
        cleanup: async () => {
          await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db);
        },
      };
    },
  },
];

describe.each(dialects)('funnel report over $name', ({ open }) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let report: FunnelReport;

  beforeAll(async () => {
    ({ store, cleanup } = await open());
    await driveConversations(store);
    await driveAcrossWindowEdges(store);
    const events = await loadFunnelEvents(store.db, WINDOW);
    report = buildReport(events, { ...WINDOW, now: REPORT_NOW, idleMs: IDLE_MS, resolutionByStep: { done: 'resolved_spam_check' } });
  });

  afterAll(async () => {
    await cleanup();
    await store.close();
  });

  it('counts the runs that started in the window, a start over as a new one', () => {
    expect(report.total.conversations).toBe(7);
  });

  it('tells where each conversation ended, abandoned ones after the idle time', () => {
    expect(report.total.endings).toMatchObject({
      resolved_spam_check: 2,
      resolved_edit: 0,
      case_opened: 1,
      needs_case: 0,
      abandoned: 3,
      in_progress: 1,
    });
    expect(report.total.abandonedAt).toEqual([
      { step: 'ask', conversations: 2 },
      { step: 'describe', conversations: 1 },
    ]);
  });

  it('computes the deflection rate over finished conversations and the median turns', () => {
    expect(report.total.finished).toBe(6);
    expect(report.total.deflected).toBe(2);
    expect(report.total.deflectionRate).toBeCloseTo(2 / 6);
    // Turns of the finished runs: A 2, B 3, C 1, E 2, F 2 then 1.
    expect(report.total.medianTurns).toBe(2);
  });

  it('counts how many conversations reached each step', () => {
    expect(report.total.reached).toEqual([
      { step: 'ask', conversations: 7 },
      { step: 'describe', conversations: 2 },
      { step: 'done', conversations: 2 },
      // The entry flow's final step it handed over from counts as reached.
      { step: 'handOff', conversations: 2 },
      { step: 'opened', conversations: 1 },
    ]);
  });

  it('splits by language and by channel', () => {
    expect(Object.keys(report.byLocale)).toEqual(['en', 'uk']);
    expect(report.byLocale.uk).toMatchObject({ conversations: 1, deflected: 0, medianTurns: 3 });
    expect(report.byLocale.uk!.endings.case_opened).toBe(1);
    expect(report.byLocale.en).toMatchObject({ conversations: 6, finished: 5, deflected: 2 });
    expect(report.byChannel.webex).toMatchObject({ conversations: 2, finished: 1, deflected: 0 });
    expect(report.byChannel.webex!.endings).toMatchObject({ abandoned: 1, in_progress: 1 });
    expect(report.byChannel.msteams).toMatchObject({ conversations: 5, finished: 5, deflected: 2 });
    expect(report.byMode.self!.conversations).toBe(7);
  });

  it('a conversation still within the idle time becomes abandoned once the idle time has passed', () => {
    const later = buildReport([], { ...WINDOW, now: REPORT_NOW, idleMs: IDLE_MS });
    expect(later.total.conversations).toBe(0);
    return loadFunnelEvents(store.db, WINDOW).then((events) => {
      const afterIdle = buildReport(events, { ...WINDOW, now: new Date('2026-11-20T18:20:01Z'), idleMs: IDLE_MS });
      expect(afterIdle.total.endings.in_progress).toBe(0);
      expect(afterIdle.total.endings.abandoned).toBe(4);
    });
  });

  it('counts a run by where it started: the tail of an earlier run is left out, an ending after the window is kept', async () => {
    const events = await loadFunnelEvents(store.db, EDGE_WINDOW);
    const edges = buildReport(events, { ...EDGE_WINDOW, now: new Date('2026-11-24T00:00:00Z'), idleMs: IDLE_MS, resolutionByStep: { done: 'resolved_spam_check' } });
    expect(edges.total.conversations).toBe(2);
    expect(edges.total.endings).toMatchObject({ resolved_spam_check: 1, abandoned: 1, needs_case: 0, in_progress: 0 });
    expect(edges.total.reached).toEqual([
      { step: 'ask', conversations: 2 },
      { step: 'done', conversations: 1 },
    ]);
    // G's new run: 1 turn; H: 2 turns (the second after the window).
    expect(edges.total.medianTurns).toBe(1.5);
    expect(edges.total.abandonedAt).toEqual([{ step: 'ask', conversations: 1 }]);
    expect(Object.keys(edges.byChannel)).toEqual(['msteams', 'webex']);
    expect(edges.byChannel.webex!.deflected).toBe(1);
  });

  it('keeps personal data out of the funnel table', async () => {
    const rows = await store.db.selectFrom('funnel_events').selectAll().execute();
    const stored = JSON.stringify(rows);
    expect(rows.length).toBeGreaterThan(20);
    for (const personal of ['jane', 'Jane', 'example.com', 'aad-7f3e', 'Лист']) expect(stored).not.toContain(personal);
  });
});

describe('the printed report', () => {
  const resources = loadResources();
  const real = createTranslator(resources);

  it('has the same keys in English and Ukrainian', () => {
    const keys = (o: unknown, prefix = ''): string[] =>
      Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => (typeof v === 'object' && v ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
    expect(keys(resources.uk.report).sort()).toEqual(keys(resources.en.report).sort());
  });

  it.each(['en', 'uk'] as const)('prints the numbers in %s with no missing string', (locale) => {
    const events = [
      { at: '2026-11-20T09:00:00.000Z', conversationKey: 't:1', channel: 'msteams', locale: 'en', mode: 'self', kind: 'started', step: 'entry' },
      { at: '2026-11-20T09:00:00.000Z', conversationKey: 't:1', channel: 'msteams', locale: 'en', mode: 'self', kind: 'step_entered', step: 'entry' },
      { at: '2026-11-20T09:00:00.000Z', conversationKey: 't:1', channel: 'msteams', locale: 'en', mode: 'self', kind: 'turn', step: 'entry' },
      { at: '2026-11-20T09:01:00.000Z', conversationKey: 't:1', channel: 'msteams', locale: 'en', mode: 'self', kind: 'answer', step: 'spamCheck', value: 'found' },
      { at: '2026-11-20T09:01:00.000Z', conversationKey: 't:1', channel: 'msteams', locale: 'en', mode: 'self', kind: 'step_entered', step: 'emailFound' },
      { at: '2026-11-20T09:01:00.000Z', conversationKey: 't:1', channel: 'msteams', locale: 'en', mode: 'self', kind: 'outcome', step: 'emailFound', value: 'resolved' },
      { at: '2026-11-20T09:01:00.000Z', conversationKey: 't:1', channel: 'msteams', locale: 'en', mode: 'self', kind: 'turn', step: 'emailFound' },
      { at: '2026-11-20T09:05:00.000Z', conversationKey: 't:2', channel: 'webex', locale: 'uk', mode: 'agent', kind: 'started', step: 'entry' },
      { at: '2026-11-20T09:05:00.000Z', conversationKey: 't:2', channel: 'webex', locale: 'uk', mode: 'agent', kind: 'turn', step: 'entry' },
    ] as const;
    const report = buildReport(events as never, { ...WINDOW, now: REPORT_NOW, idleMs: IDLE_MS });
    const text = renderReport(report, real, locale);
    expect(text).not.toMatch(/report:|\{\{/);
    expect(text).toContain(real.t(locale, 'report:ending.resolved_spam_check'));
    expect(text).toContain(real.t(locale, 'report:section.channel', { value: 'webex' }));
    expect(text).toMatch(locale === 'en' ? /50%/ : /50\s?%/);
    expect(text).toContain('emailFound');
  });
});
