/**
 * Issue 23 at the engine, with the real flows and SQLite: every ending asks "did this help?", the
 * endings that promise an email offer "check back with me tomorrow" (not in the terminal chat, not
 * when turned off), a press or typed answer is stored without names, emails or user ids, and the
 * follow-up is a durable timer written with the turn, cancelled by the next message or "stop reminders".
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Application } from '../../src/app';
import type { Inbound, TurnResult } from '../../src/engine/types';
import { createApp, testConfig } from '../support';
import { testDir } from '../support/temp';

const T0 = new Date('2026-12-01T09:00:00.000Z');
let app: Application | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(env: Record<string, string> = {}) {
  const dir = testDir('followups-offers');
  app = await createApp(testConfig({ DATABASE_URL: `sqlite:${dir.join('bot.sqlite')}`, WEBCHAT_ENABLED: 'false', ...env }), { engine: { clock: () => T0 } });
  return app;
}

function person(a: Application, channel = 'test', locale = 'en', user: Inbound['user'] = { id: 'u-1', name: 'Olena Petrenko', email: 'olena@partner.example' }) {
  const conversationId = `c-${Math.random().toString(36).slice(2)}`;
  const send = (extra: Partial<Inbound>) => a.engine.handle({ channel, conversationId, user, locale, ...extra });
  return { key: `${channel}:${conversationId}`, send, press: (id: string, step?: string) => send({ choice: { id, step } }), say: (text: string) => send({ text }) };
}

const said = (r: TurnResult) => r.messages.flatMap((m) => m.paragraphs).join('\n');
const choices = (r: TurnResult) => r.messages.at(-1)!.choices.map((c) => [c.id, c.label]);

/** The guide walked to "the change is saved" (N6 confirmed). */
async function toChangeConfirmed(p: ReturnType<typeof person>) {
  await p.send({ kind: 'greeting' });
  await p.press('check_change');
  const r = await p.press('updated');
  expect(r.step).toBe('changeConfirmed');
  return r;
}

describe('the offers at an ending', () => {
  it('asks "did this help?" and offers to check back tomorrow, in English and in Ukrainian', async () => {
    const a = await start();
    expect(choices(await toChangeConfirmed(person(a)))).toEqual([
      ['cmd.restart', 'Start over'],
      ['helped', '👍 Yes, it helped'],
      ['not_helped', "👎 No, it didn't"],
      ['check_back', 'Check back with me tomorrow'],
    ]);
    expect(choices(await toChangeConfirmed(person(a, 'test', 'uk'))).slice(1)).toEqual([
      ['helped', '👍 Так, допомогло'],
      ['not_helped', '👎 Ні, не допомогло'],
      ['check_back', 'Запитайте мене завтра'],
    ]);
  });

  it('says the delay when it is not a day, fractions included', async () => {
    const a = await start({ FOLLOWUP_DELAY_HOURS: '1.5' });
    expect(choices(await toChangeConfirmed(person(a))).at(-1)).toEqual(['check_back', 'Check back with me in 1.5 hours']);
    expect(choices(await toChangeConfirmed(person(a, 'test', 'uk'))).at(-1)).toEqual(['check_back', 'Запитайте мене через 1,5 години']);
  });

  it('offers no follow-up in the terminal chat or when FOLLOWUPS_ENABLED=false, but still asks whether it helped', async () => {
    const a = await start();
    const terminal = await toChangeConfirmed(person(a, 'terminal'));
    expect(choices(terminal).map(([id]) => id)).toEqual(['cmd.restart', 'helped', 'not_helped']);
    await a.close();
    app = undefined;
    const off = await start({ FOLLOWUPS_ENABLED: 'false' });
    expect(choices(await toChangeConfirmed(person(off))).map(([id]) => id)).toEqual(['cmd.restart', 'helped', 'not_helped']);
  });

  it('asks whether it helped at an ending that offers no follow-up (the email was in spam)', async () => {
    const a = await start();
    const p = person(a);
    await p.send({ kind: 'greeting' });
    await p.press('never_arrived');
    const r = await p.press('found');
    expect(r.step).toBe('emailFound');
    expect(choices(r).map(([id]) => id)).toEqual(['cmd.restart', 'helped', 'not_helped']);
  });
});

describe('"did this help?"', () => {
  it('a press stores the rating, a typed comment is added with names, emails and phone numbers masked', async () => {
    const a = await start();
    const p = person(a);
    await toChangeConfirmed(p);
    const up = await p.press('helped', 'changeConfirmed');
    expect(said(up)).toContain("Thanks, I'm glad it helped.");
    expect(up.step).toBe('afterComment');
    const done = await p.say('Great guide! Olena Petrenko here, olena@partner.example, +380 44 123 4567. My name is Taras');
    expect(said(done)).toContain('Thank you, your feedback is noted.');
    const rows = await a.followups.satisfaction.all();
    expect(rows).toEqual([
      expect.objectContaining({ flow: 'provisioning-contact', ending: 'changeConfirmed', outcome: 'resolved', locale: 'en', channel: 'test', mode: 'self', rating: 'up' }),
    ]);
    expect(rows[0]!.comment).toBe('Great guide! [name] [name] here, [email], [phone]. My name is [name]');
    // Nothing in any column names the person.
    expect(JSON.stringify(rows)).not.toMatch(/u-1|Olena|Petrenko|olena@|Taras/);
  });

  it('understands a typed 👍, "так, допомогло" and "ні"; "No, that\'s all" stores no comment', async () => {
    const a = await start();
    const en = person(a);
    await toChangeConfirmed(en);
    expect((await en.say('👍')).step).toBe('afterComment');
    expect((await en.press('skip_comment', 'afterComment')).step).toBe('afterThanked');
    const uk = person(a, 'test', 'uk');
    await toChangeConfirmed(uk);
    const yes = await uk.say('так, допомогло');
    expect(said(yes)).toContain('Дякую! Добре, що це допомогло.');
    const no = person(a, 'test', 'uk');
    await toChangeConfirmed(no);
    expect(said(await no.say('ні'))).toContain('Шкода, що це не допомогло.');
    const ratings = (await a.followups.satisfaction.all()).map((r) => [r.locale, r.rating, r.comment]).sort();
    expect(ratings).toEqual([
      ['en', 'up', null],
      ['uk', 'down', null],
      ['uk', 'up', null],
    ]);
  });

  it('after "check back", still asks whether it helped, and the rating does not cancel the follow-up', async () => {
    const a = await start();
    const p = person(a);
    await toChangeConfirmed(p);
    const set = await p.press('check_back', 'changeConfirmed');
    expect(said(set)).toContain("Fine: I'll check back with you here tomorrow and ask whether the provisioning email arrived.");
    expect(choices(set).map(([id]) => id)).toEqual(['helped', 'not_helped', 'cmd.restart']);
    const rated = await p.press('not_helped', set.step);
    expect(rated.step).toBe('afterComment');
    // Check back is not offered twice.
    expect(choices(rated).map(([id]) => id)).toEqual(['skip_comment']);
    await p.say('the guide was fine, the email is just slow');
    expect((await a.followups.repository.pendingFor(p.key)).map((f) => f.ending)).toEqual(['changeConfirmed']);
  });
});

describe('the follow-up timer', () => {
  it('is written with the accepting turn, due after the delay, with what the guide knew', async () => {
    const a = await start({ FOLLOWUP_DELAY_HOURS: '0.5' });
    const p = person(a);
    await toChangeConfirmed(p);
    await p.press('check_back', 'changeConfirmed');
    const [f] = await a.followups.repository.pendingFor(p.key);
    expect(f).toMatchObject({ ending: 'changeConfirmed', status: 'pending', dueAt: '2026-12-01T09:30:00.000Z', hours: 0.5, channel: 'test' });
    expect(f!.intake?.draft.trail?.map((t) => t.step)).toEqual(['entry', 'verifyUpdate']);
  });

  it('is cancelled by the next message in the conversation, in that turn', async () => {
    const a = await start();
    const p = person(a);
    await toChangeConfirmed(p);
    await p.press('check_back', 'changeConfirmed');
    // Small talk stays with the offer; a message about the problem starts over and cancels.
    await p.say('thanks');
    expect(await a.followups.repository.pendingFor(p.key)).toHaveLength(1);
    const r = await p.say('the email still did not arrive');
    expect(r.step).not.toMatch(/^after/);
    expect(await a.followups.repository.pendingFor(p.key)).toEqual([]);
    const row = await a.store.db.selectFrom('followups' as never).selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'cancelled', cancel_reason: 'wrote', data: null });
  });

  it('is shown by "status" and cancelled by "stop reminders" / "не нагадувати"', async () => {
    const a = await start();
    const p = person(a);
    await toChangeConfirmed(p);
    await p.press('check_back', 'changeConfirmed');
    expect(said(await p.say('status'))).toContain("I'll check back with you here at 2026-12-02 09:00 UTC and ask whether the provisioning email arrived.");
    expect(said(await p.say('stop reminders'))).toContain("All right: I won't check back with you (1 reminder cancelled).");
    expect(await a.followups.repository.pendingFor(p.key)).toEqual([]);
    expect(said(await p.say('stop reminders'))).toContain("There's no reminder to stop");

    const uk = person(a, 'test', 'uk');
    await toChangeConfirmed(uk);
    await uk.press('check_back', 'changeConfirmed');
    expect(said(await uk.say('нагадування'))).toContain('Я напишу вам тут 2026-12-02 09:00 UTC');
    expect(said(await uk.say('не нагадувати'))).toContain('Добре: скасовано 1 нагадування.');
    expect(await a.followups.repository.pendingFor(uk.key)).toEqual([]);
  });

  it('counts follow-ups accepted and cancelled, and ratings, on /metrics', async () => {
    const a = await start();
    const p = person(a);
    await toChangeConfirmed(p);
    await p.press('check_back', 'changeConfirmed');
    await p.press('helped', 'afterCheckBackSet');
    await p.say('stop reminders');
    const { body } = await a.metrics.render();
    expect(body).toContain('pce_bot_followups_total{event="accepted"} 1');
    expect(body).toContain('pce_bot_followups_total{event="cancelled"} 1');
    expect(body).toContain('pce_bot_satisfaction_ratings_total{rating="up",channel="test"} 1');
  });
});
