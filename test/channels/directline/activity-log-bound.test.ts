/**
 * Issue 14, item 5: a conversation's activity log is bounded. Past the bound the oldest activities
 * are dropped; the watermark goes on, so a page that follows it gets every activity once and never
 * one twice, a reload shows the newest ones, and the conversation goes on. Real bot over real HTTP,
 * on SQLite and PostgreSQL, with a small bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dropBotData, newBotData, startClockedBot, type BotData, type ClockedBot, type Dialect } from './clocked-bot';
import { DirectLineTestClient, type ActivitySet } from './harness';

const BOUND = 12;

describe.each<Dialect>(['sqlite', 'postgres'])('a bounded Direct Line activity log (%s)', (dialect) => {
  let data: BotData;
  let bot: ClockedBot | undefined;

  afterEach(async () => {
    await bot?.stop();
    bot = undefined;
    await dropBotData(data);
  });

  it('drops the oldest activities past the bound while the watermark hands out each one once', async () => {
    data = newBotData(dialect);
    bot = await startClockedBot(data, { maxActivities: BOUND });
    const dl = new DirectLineTestClient(bot.url);
    const c = await dl.startOk({ locale: 'en-US' });
    const seen: ActivitySet['activities'] = [];
    let watermark = '';
    const poll = async () => {
      const set = await dl.getOk(c, watermark);
      seen.push(...set.activities);
      expect(Number(set.watermark)).toBeGreaterThanOrEqual(Number(watermark || 0));
      watermark = set.watermark;
    };
    await poll();
    for (let i = 0; i < 10; i += 1) {
      const res = await dl.post(c, { type: 'message', text: 'help', channelData: { clientActivityID: `m-${i}` } });
      expect(res.status).toBe(200);
      await poll();
    }
    const ids = seen.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThan(BOUND);
    expect(Number(watermark)).toBe(ids.length);

    // Only the newest are kept; a reload (from no watermark) gets them, in order, and the same watermark.
    const rows = await bot.db.selectFrom('directline_activities').select('seq').where('conversation_id', '=', c.conversationId).orderBy('seq').execute();
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: BOUND }, (_, i) => ids.length - BOUND + 1 + i));
    const reload = await dl.getOk(c);
    expect(reload.activities.map((a) => a.id)).toEqual(ids.slice(-BOUND));
    expect(reload.watermark).toBe(watermark);
    // A reader behind the oldest kept one resumes from there, without repeats.
    expect((await dl.getOk(c, '1')).activities.map((a) => a.id)).toEqual(ids.slice(-BOUND));

    // The conversation goes on: the next message is answered after the watermark.
    const next = await dl.post(c, { type: 'message', text: 'help', channelData: { clientActivityID: 'after-bound' } });
    const { id } = (await next.json()) as { id: string };
    const after = await dl.getOk(c, watermark);
    expect(after.activities[0]!.id).toBe(id);
    expect(after.activities.some((a) => a.replyToId === id && a.from.role === 'bot')).toBe(true);
    const kept = await bot.db.selectFrom('directline_activities').select((eb) => eb.fn.countAll().as('n')).where('conversation_id', '=', c.conversationId).executeTakeFirstOrThrow();
    expect(Number(kept.n)).toBe(BOUND);
  });
});
