/**
 * The real troubleshooting flow walked to an opened case (N8's fixes fail, N9 hands over, the
 * intake is answered and confirmed), through `engine.handle` as a channel calls it, in the locale
 * given; and a web chat conversation's bot messages read back over HTTP as Web Chat polls.
 */
import { expect } from 'vitest';
import type { Application } from '../../src/app';
import type { Inbound, TurnResult } from '../../src/engine/types';

export type Send = (extra: Partial<Inbound>) => Promise<TurnResult>;

/** Sends as `user` in one conversation of `channel`. */
export function sender(app: Application, channel: string, conversationId: string, user: Inbound['user'], locale: string): Send {
  return (extra) => app.engine.handle({ channel, conversationId, user, locale, ...extra });
}

/** Walks to the case and confirms it; returns the reference the person was given. */
export async function walkToCase(send: Send): Promise<string> {
  await send({ kind: 'greeting' });
  for (const id of ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed', 'incognito', 'failed', 'cache_cookies', 'failed', 'other_browser', 'failed']) {
    await send({ choice: { id } });
  }
  let r: TurnResult | undefined;
  for (const text of ['104857391', 'Sub123456', 'old@customer.example', 'new@customer.example']) r = await send({ text });
  r = await send({ choice: { id: 'attachments_done' } });
  expect(r.step).toBe('summary');
  r = await send({ choice: { id: 'confirm', step: 'summary' } });
  expect(r.outcome).toBe('case_opened');
  const reference = /PCE-\d{6}/.exec(r.messages[0]!.paragraphs.join(' '))?.[0];
  expect(reference).toBeDefined();
  return reference!;
}

export interface WebChat {
  conversationId: string;
  token: string;
  userId: string;
}

export async function startWebChat(url: string, locale: 'en' | 'uk'): Promise<WebChat> {
  const res = await fetch(`${url}/directline/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ locale }) });
  expect(res.status).toBe(201);
  return (await res.json()) as WebChat;
}

/** The bot's messages in the web chat's activity stream (told without the person writing: proactive ones). */
export async function botTexts(url: string, c: WebChat): Promise<string[]> {
  const res = await fetch(`${url}/directline/conversations/${c.conversationId}/activities`, { headers: { authorization: `Bearer ${c.token}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { activities: { type: string; text?: string; from: { role?: string } }[] };
  return body.activities.filter((a) => a.type === 'message' && a.from.role === 'bot').map((a) => a.text ?? '');
}

/** The paragraphs of a turn's replies, in one string. */
export function said(r: TurnResult): string {
  return r.messages.flatMap((m) => m.paragraphs).join('\n');
}
