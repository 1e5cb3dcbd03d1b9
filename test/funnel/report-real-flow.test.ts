import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFunnelEvents } from '../../src/funnel/query';
import { buildReport, type FunnelReport } from '../../src/funnel/report';
import type { SqlStore } from '../../src/storage/index';
import { REPORT_NOW, SEED_WINDOW, seedConversations, startSeedApp, type SeededApp } from './real-flow';

let seeded: SeededApp;
let report: FunnelReport;

beforeAll(async () => {
  seeded = await startSeedApp();
  await seedConversations(seeded);
  const events = await loadFunnelEvents((seeded.app.store as SqlStore).db, SEED_WINDOW);
  report = buildReport(events, { ...SEED_WINDOW, now: REPORT_NOW, idleMs: 30 * 60_000 });
});

afterAll(() => seeded.close());

describe('the funnel report over the real troubleshooting flow', () => {
  it('tells every ending of the article apart', () => {
    expect(report.total.conversations).toBe(7);
    expect(report.total.endings).toEqual({
      resolved_spam_check: 2,
      resolved_edit: 1,
      redirected_admin: 1,
      forwarded_to_owner: 1,
      case_opened: 1,
      needs_case: 0,
      other: 0,
      abandoned: 1,
      in_progress: 0,
    });
    expect(report.total.abandonedAt).toEqual([{ step: 'orderLineStatus', conversations: 1 }]);
  });

  it('computes deflection and the median number of turns', () => {
    expect(report.total.deflected).toBe(5);
    expect(report.total.deflectionRate).toBeCloseTo(5 / 7);
    // Turns: spam 3, edit 7, admin 5, owner 4, case 13, agent 6, abandoned 2.
    expect(report.total.medianTurns).toBe(5);
  });

  it('counts how many reached each step of the tree', () => {
    const reached = Object.fromEntries(report.total.reached.map((r) => [r.step, r.conversations]));
    expect(reached).toMatchObject({ entry: 7, spamCheck: 2, orderLineStatus: 5, editAccess: 3, ponrCheck: 3, editSteps: 2, browserFixes: 1, needsCase: 1, customerName: 1 });
  });

  it('splits by language, channel and mode', () => {
    expect(report.byLocale.uk).toMatchObject({ conversations: 1, deflected: 1 });
    expect(report.byLocale.en).toMatchObject({ conversations: 6, finished: 6, deflected: 4 });
    expect(report.byChannel.webex).toMatchObject({ conversations: 1, deflected: 1 });
    expect(report.byChannel.webex!.endings.resolved_edit).toBe(1);
    expect(report.byMode.agent).toMatchObject({ conversations: 1, medianTurns: 6 });
    expect(report.byMode.agent!.endings.resolved_spam_check).toBe(1);
    expect(report.byMode.self!.conversations).toBe(6);
  });
});
