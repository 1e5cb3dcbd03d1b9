/**
 * Issue 21 item 6: the report's cases, from a seeded set on SQLite and PostgreSQL. Cases opened in
 * the window, by where they stand now (the latest update, else their delivery); time to the first
 * update and to the first "resolved"/"closed", median and 90th percentile; the answers to "is it
 * solved?". And the closure flow's events stay out of the guide's runs: a run that ended in a case
 * still ended there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseUpdatesRepository } from '../../src/cases/updates-repository';
import { loadCaseReport } from '../../src/funnel/cases-query';
import { buildCaseReport, percentile } from '../../src/funnel/cases-report';
import { renderReport } from '../../src/funnel/render';
import { buildReport } from '../../src/funnel/report';
import { createTranslator } from '../../src/i18n';
import type { SqlStore } from '../../src/storage/index';
import type { FunnelEvent } from '../../src/storage/store';
import { seedCase } from '../cases/helpers';
import { postgresHarness, sqliteHarness, type StoreHarness } from '../storage/harness';
import { funnelEvent as event, storeFunnelEvents } from './events';

const WINDOW = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-23T00:00:00Z') };
const delivered = { backend: 'webhook' as const, status: 'delivered' as const, attempts: 1 };

async function seed(store: SqlStore): Promise<void> {
  const updates = new CaseUpdatesRepository(store);
  let n = 0;
  const update = (reference: string, status: 'open' | 'in_progress' | 'waiting_for_customer' | 'resolved' | 'closed', at: string) =>
    updates.record({ backend: 'webhook', eventId: `e${++n}`, reference, status, message: 'a note that is never read here' }, new Date(at));

  const a = await seedCase(store, { createdAt: '2026-11-20T10:00:00.000Z', delivery: delivered });
  await update(a.reference, 'in_progress', '2026-11-20T10:30:00Z');
  await update(a.reference, 'resolved', '2026-11-20T14:00:00Z');
  const b = await seedCase(store, { createdAt: '2026-11-20T11:00:00.000Z', delivery: delivered });
  await update(b.reference, 'open', '2026-11-20T12:00:00Z');
  await update(b.reference, 'waiting_for_customer', '2026-11-20T13:00:00Z');
  await update(b.reference, 'closed', '2026-11-22T11:00:00Z');
  const c = await seedCase(store, { createdAt: '2026-11-20T12:00:00.000Z', delivery: delivered });
  await update(c.reference, 'in_progress', '2026-11-20T12:10:00Z');
  await seedCase(store, { createdAt: '2026-11-20T13:00:00.000Z' });
  await seedCase(store, { createdAt: '2026-11-20T14:00:00.000Z', delivery: delivered });
  // Opened before the window: not counted, whatever happens to it in the window.
  const old = await seedCase(store, { createdAt: '2026-11-19T09:00:00.000Z', delivery: delivered });
  await update(old.reference, 'resolved', '2026-11-20T09:00:00Z');

  const closure: FunnelEvent[] = [
    ...['c1', 'c2', 'c3'].map((k) => event(k, '2026-11-21T09:00:00.000Z', 'step_entered', 'closureAsk')),
    event('c1', '2026-11-21T09:05:00.000Z', 'answer', 'closureAsk', 'worked'),
    event('c2', '2026-11-21T09:05:00.000Z', 'answer', 'closureAsk', 'worked'),
    event('c3', '2026-11-21T09:05:00.000Z', 'answer', 'closureAsk', 'failed'),
    event('c3', '2026-11-21T09:06:00.000Z', 'answer', 'closureOffer', 'reopen'),
    // Outside the window.
    event('c4', '2026-11-23T09:05:00.000Z', 'answer', 'closureAsk', 'worked'),
  ];
  await storeFunnelEvents(store, closure, WINDOW.from.toISOString());
}

describe.each([
  ['sqlite', sqliteHarness],
  ['postgres', postgresHarness],
] as const)('the cases in the funnel report (%s)', (_name, makeHarness: () => StoreHarness) => {
  const harness = makeHarness();
  let store: SqlStore;

  beforeAll(async () => {
    store = await harness.open();
    await seed(store);
  });
  afterAll(() => harness.cleanup());

  it('counts cases by where they stand, the times to answer and resolve, and the closure answers', async () => {
    expect(await loadCaseReport(store.db, WINDOW)).toEqual({
      opened: 5,
      byStatus: { closed: 1, 'delivery:delivered': 1, 'delivery:pending': 1, in_progress: 1, resolved: 1 },
      firstResponse: { cases: 3, medianMinutes: 30, p90Minutes: 60 },
      resolution: { cases: 2, medianMinutes: 1560, p90Minutes: 2880 },
      closure: { asked: 3, solved: 2, notSolved: 1, reopen: 1, newCase: 0 },
    });
  });

  it('prints them in both languages', async () => {
    const report = buildReport([], { ...WINDOW, now: WINDOW.to, idleMs: 30 * 60_000 });
    report.cases = await loadCaseReport(store.db, WINDOW);
    const translator = createTranslator();
    const en = renderReport(report, translator, 'en');
    expect(en).toContain('== Support cases\nCases opened: 5');
    expect(en).toMatch(/Received by support, no update yet\s+1/);
    expect(en).toContain('Time to first response: median 30 min, 90th percentile 60 min (3 cases)');
    expect(en).toContain('Time to resolution: median 26 h, 90th percentile 2 days (2 cases)');
    expect(en).toMatch(/Yes, solved\s+2\n {2}Not solved\s+1\n {2}Asked to reopen\s+1/);
    const uk = renderReport(report, translator, 'uk');
    expect(uk).toContain('Час до вирішення: медіана 26 год, 90-й процентиль 2 дн. (звернень: 2)');
    expect(uk).toMatch(/Ще не надійшло до команди підтримки\s+1/);
  });
});

describe('the report arithmetic', () => {
  it('takes the nearest-rank 90th percentile and counts a case without updates by its delivery', () => {
    expect(percentile([], 0.9)).toBeNull();
    expect(percentile([5], 0.9)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    const none = { asked: 0, solved: 0, notSolved: 0, reopen: 0, newCase: 0 };
    expect(buildCaseReport([{ createdAt: '2026-11-20T10:00:00Z', delivery: 'failed', updates: [] }], none)).toEqual({
      opened: 1,
      byStatus: { 'delivery:failed': 1 },
      firstResponse: { cases: 0, medianMinutes: null, p90Minutes: null },
      resolution: { cases: 0, medianMinutes: null, p90Minutes: null },
      closure: none,
    });
  });

  it('keeps the closure flow out of the runs: a run that opened a case still ended in a case', () => {
    const e = (at: string, kind: FunnelEvent['kind'], step: string, value?: string): FunnelEvent => event('k', `2026-11-20T${at}:00.000Z`, kind, step, value);
    const events = [
      e('09:00', 'started', 'entry'),
      e('09:01', 'outcome', 'opened', 'case_opened'),
      e('09:01', 'turn', 'opened'),
      e('15:00', 'step_entered', 'closureAsk'),
      e('15:00', 'turn', 'closureAsk'),
      e('15:05', 'answer', 'closureAsk', 'worked'),
      e('15:05', 'outcome', 'closureSolved', 'resolved_by_support'),
    ];
    const report = buildReport(events, { ...WINDOW, now: WINDOW.to, idleMs: 30 * 60_000 });
    expect(report.total.endings.case_opened).toBe(1);
    expect(report.total.reached.map((s) => s.step)).not.toContain('closureAsk');
  });
});
