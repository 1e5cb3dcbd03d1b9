/**
 * Issue 14, item 5: what a browser posts is bounded. Oversized activities are answered 413 with the
 * Direct Line error body and nothing is stored; events the bot ignores are acknowledged but not kept;
 * what the page itself sends (typed text, the largest card press, the language switch) still goes
 * through. The whole bot over real HTTP, on SQLite and on PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { ACTIVITY_LIMITS, PAGE_EVENTS } from '../../../src/channels/directline/protocol';
import { sharedBot, type StartedConversation } from './harness';
import { botDatabases } from '../../support';

const DIALECTS = botDatabases('webchat_limits');

describe.each(DIALECTS)('Direct Line activity limits on %s', (_name, databaseEnv) => {
  const web = sharedBot(databaseEnv());

  async function expectNothingStored(c: StartedConversation, before: { count: number; watermark: string }): Promise<void> {
    expect(await web.stored(c.conversationId)).toBe(before.count);
    expect(await web.dl.getOk(c, before.watermark)).toEqual({ activities: [], watermark: before.watermark });
  }

  async function snapshot(c: StartedConversation): Promise<{ count: number; watermark: string }> {
    return { count: await web.stored(c.conversationId), watermark: (await web.dl.getOk(c)).watermark };
  }

  it.each([
    ["an event with a 250 KB value (the issue's attack)", { type: 'event', name: 'stuffing', value: { blob: 'x'.repeat(250_000) } }],
    ['a message whose value is over the value cap', { type: 'message', value: { choice: 'x', blob: 'x'.repeat(ACTIVITY_LIMITS.valueBytes) } }],
    ['an event whose name is over the name cap', { type: 'event', name: 'n'.repeat(ACTIVITY_LIMITS.nameChars + 1), value: 'uk' }],
    ['an activity over the whole-activity cap in fields the bot never reads', { type: 'message', text: 'hi', entities: [{ type: 'junk', blob: 'x'.repeat(ACTIVITY_LIMITS.activityBytes) }] }],
  ])('refuses %s with 413 MessageSizeTooBig and stores nothing', async (_what, activity) => {
    const c = await web.dl.startOk();
    const before = await snapshot(c);
    for (let i = 0; i < 5; i += 1) {
      const res = await web.dl.post(c, { ...activity, channelData: { clientActivityID: `big-${i}` } });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('MessageSizeTooBig');
    }
    await expectNothingStored(c, before);
  });

  it('takes the largest card press the page sends (a 4000-character Ukrainian prompt) and the longest text', async () => {
    const c = await web.dl.startOk({ locale: 'uk-UA' });
    const { watermark } = await web.dl.getOk(c);
    const press = { choice: 'no_such_choice', step: 'summary', prompt: 'Ґ'.repeat(4000), label: 'Підтвердити'.padEnd(400, '.') };
    const pressed = await web.dl.post(c, { type: 'message', value: press, channelData: { clientActivityID: 'press-big' } });
    expect(pressed.status).toBe(200);
    const typed = await web.dl.post(c, { type: 'message', text: 'ї'.repeat(ACTIVITY_LIMITS.textChars), channelData: { clientActivityID: 'text-big' } });
    expect(typed.status).toBe(200);
    const after = await web.dl.getOk(c, watermark);
    const echoes = after.activities.filter((a) => a.from.role === 'user').map((a) => (a.channelData as { clientActivityID: string }).clientActivityID);
    expect(echoes).toEqual(['press-big', 'text-big']);
    expect(after.activities.filter((a) => a.from.role === 'bot').length).toBeGreaterThan(0);
  });

  it.each([
    ['an event the page never sends', { type: 'event', name: 'something/else', value: { blob: 'x'.repeat(10_000) } }],
    ['the language event without a language', { type: 'event', name: PAGE_EVENTS.setLanguage, value: { blob: 'x'.repeat(10_000) } }],
    ['a conversationUpdate from the browser', { type: 'conversationUpdate', text: 'x'.repeat(5_000) }],
    ['an invoke', { type: 'invoke', name: 'adaptiveCard/action', value: { blob: 'x'.repeat(10_000) } }],
    ['a typing indicator', { type: 'typing' }],
  ])('acknowledges %s without storing it or running the bot', async (_what, activity) => {
    const c = await web.dl.startOk();
    const before = await snapshot(c);
    for (let i = 0; i < 5; i += 1) {
      const res = await web.dl.post(c, { ...activity, channelData: { clientActivityID: `ignored-${i}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { id: string }).id).toContain(c.conversationId);
    }
    await expectNothingStored(c, before);
  });

  it('keeps the language switch, which the bot acts on, and answers it', async () => {
    const c = await web.dl.startOk({ locale: 'en-US' });
    const { watermark } = await web.dl.getOk(c);
    const res = await web.dl.post(c, { type: 'event', name: PAGE_EVENTS.setLanguage, value: 'uk', channelData: { clientActivityID: 'lang-1' } });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    const after = await web.dl.getOk(c, watermark);
    expect(after.activities[0]).toMatchObject({ id, type: 'event', name: PAGE_EVENTS.setLanguage, value: 'uk' });
    expect(after.activities.some((a) => a.replyToId === id && a.from.role === 'bot' && a.locale === 'uk')).toBe(true);
  });
});
