import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, type Application } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { Inbound, TurnResult } from '../../src/engine/types';
import { loadFunnelEvents } from '../../src/funnel/query';
import { buildReport, type FunnelReport } from '../../src/funnel/report';
import { createLogger } from '../../src/log';
import type { SqlStore } from '../../src/storage/index';

const AGENT_ID = 'aad-agent-report';
let dir: string;
let app: Application;
let now = new Date('2026-11-20T09:00:00Z');
let report: FunnelReport;

/** One conversation that presses the offered buttons (failing if one is not offered) and types. */
function talk(conversationId: string, opts: { user?: Inbound['user']; locale?: string; channel?: string } = {}) {
  let last: TurnResult | undefined;
  const send = async (extra: Partial<Inbound>) =>
    (last = await app.engine.handle({
      channel: opts.channel ?? 'msteams',
      conversationId,
      user: opts.user ?? { id: `user-${conversationId}` },
      locale: opts.locale ?? 'en-US',
      ...extra,
    }));
  return {
    greet: () => send({ kind: 'greeting' }),
    say: (text: string) => send({ text }),
    async press(...ids: string[]) {
      for (const id of ids) {
        expect(last!.messages.flatMap((m) => m.choices).map((c) => c.id), `${conversationId} at ${last!.step}`).toContain(id);
        await send({ choice: { id, step: last!.step } });
      }
      return last!;
    },
    last: () => last!,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'report-real-'));
  const config = loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'bot.sqlite')}`, AGENT_IDS: AGENT_ID, LOG_LEVEL: 'silent' });
  app = await createApplication(config, { logger: createLogger('silent'), processMetrics: false, engine: { clock: () => now } });

  const spam = talk('spam');
  await spam.greet();
  expect((await spam.press('never_arrived', 'found')).step).toBe('emailFound');

  const edit = talk('edit', { channel: 'webex' });
  await edit.greet();
  expect((await edit.press('change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'worked', 'updated')).step).toBe('changeConfirmed');

  const admin = talk('admin');
  await admin.greet();
  expect((await admin.press('change_contact', 'awaiting', 'can_edit', 'onboarded')).step).toBe('adminPortal');

  const owner = talk('owner');
  await owner.greet();
  expect((await owner.press('change_contact', 'closed', 'cannot_edit')).step).toBe('forwardToOwner');

  const withCase = talk('case');
  await withCase.greet();
  await withCase.press('change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed', 'none_helped');
  for (const text of ['104857391', 'Sub123456', 'old.contact@customer.example', 'new.contact@customer.example']) await withCase.say(text);
  expect((await withCase.press('attachments_done', 'confirm')).outcome).toBe('case_opened');

  const agent = talk('agent', { user: { id: AGENT_ID, name: 'Agent', verified: [{ scheme: 'aad', value: AGENT_ID }] }, locale: 'uk-UA' });
  for (const text of ['тріаж', 'Марія Клієнтка', 'maria@customer.example', '104857391']) await agent.say(text);
  expect((await agent.press('never_arrived', 'found')).step).toBe('emailFound');

  const left = talk('left');
  await left.greet();
  await left.press('change_contact');
  now = new Date('2026-11-20T09:05:00Z');

  const window = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z') };
  const events = await loadFunnelEvents((app.store as SqlStore).db, window);
  report = buildReport(events, { ...window, now: new Date('2026-11-20T12:00:00Z'), idleMs: 30 * 60_000 });
});

afterAll(async () => {
  await app.close(1000);
  rmSync(dir, { recursive: true, force: true });
});

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
