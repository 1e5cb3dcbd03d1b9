/**
 * The assembled application with a clock the test sets, and a seeded set of conversations driven
 * through the real troubleshooting flow: every ending of the article once (the spam check twice, once
 * by an agent in Ukrainian), and one abandoned. Shared by the report's number, page and route tests.
 */
import { expect } from 'vitest';
import type { Application } from '../../src/app';
import type { Inbound, TurnResult } from '../../src/engine/types';
import { createApp, dataIn, tempDir, testConfig } from '../support';

export const AGENT_ID = 'aad-agent-report';
/** The day the seeded conversations happen on, and when a report of it is read. */
export const SEED_WINDOW = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z') };
export const REPORT_NOW = new Date('2026-11-20T12:00:00Z');

export interface SeededApp {
  app: Application;
  /** Moves the app's clock (turns and the report's "now"). */
  at(iso: string | Date): void;
  talk: (conversationId: string, opts?: TalkOptions) => Talk;
  close(): Promise<void>;
}

interface TalkOptions {
  user?: Inbound['user'];
  locale?: string;
  channel?: string;
}

export interface Talk {
  greet(): Promise<TurnResult>;
  say(text: string): Promise<TurnResult>;
  /** Presses the offered buttons in order, failing if one is not offered. */
  press(...ids: string[]): Promise<TurnResult>;
  last(): TurnResult;
}

/** A fresh SQLite app; `env` adds settings (METRICS_TOKEN, METRICS_BIND, …). */
export async function startSeedApp(env: Record<string, string> = {}): Promise<SeededApp> {
  const dir = tempDir('report-real-');
  let now = new Date('2026-11-20T09:00:00Z');
  const app = await createApp(testConfig({ ...dataIn(dir.path), AGENT_IDS: AGENT_ID, ...env }), { engine: { clock: () => now } });
  const talk = (conversationId: string, opts: TalkOptions = {}): Talk => {
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
      say: (text) => send({ text }),
      async press(...ids) {
        for (const id of ids) {
          expect(last!.messages.flatMap((m) => m.choices).map((c) => c.id), `${conversationId} at ${last!.step}`).toContain(id);
          await send({ choice: { id, step: last!.step } });
        }
        return last!;
      },
      last: () => last!,
    };
  };
  return {
    app,
    at: (iso) => (now = new Date(iso)),
    talk,
    async close() {
      await app.close(1000);
      dir.remove();
    },
  };
}

/** The seven conversations; afterwards the clock is past the abandoned one's idle time. */
export async function seedConversations({ talk, at }: SeededApp): Promise<void> {
  at('2026-11-20T09:00:00Z');
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
  at(REPORT_NOW);
}

/** What the seed must never leak into a report: what people typed, their names and ids. */
export const SEED_PERSONAL = ['customer.example', 'Марія', 'Клієнтка', 'maria', '104857391', 'Sub123456', AGENT_ID, 'user-spam'];
