import { describe, expect, it } from 'vitest';
import { createTranslator } from '../../../src/i18n';
import { Person, storedView, useBotWithConnector, type Reply } from './harness';

const t = createTranslator();
const { bot, connector } = useBotWithConnector();

function firstChoice(reply: Reply) {
  const choice = reply.choices[0];
  expect(choice, 'the bot offers at least one answer').toBeDefined();
  return choice!;
}

describe('POST /api/messages as Microsoft Teams', () => {
  it('greets with an Adaptive Card 1.5 whose buttons carry the choice and the step', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    const { status, replies } = await person.join();
    expect(status).toBe(200);
    expect(replies).toHaveLength(1);
    const card = replies[0]!.card!;
    expect(card.version).toBe('1.5');
    expect(card.actions.length).toBeGreaterThan(0);
    const view = await storedView(bot.app, person.key);
    for (const action of card.actions) {
      // Universal Actions: a press is an invoke whose answer replaces the card, with no connector call.
      expect(action.type).toBe('Action.Execute');
      expect(action.verb).toBe('choose');
      expect(action.data).toMatchObject({ step: view.step });
    }
    expect(card.actions.map((a) => (a.data as { choice: string }).choice)).toEqual(view.choices.map((c) => c.id));
  });

  it('acts on a press (an adaptiveCard/action invoke) and answers it with the card it becomes: the answer, no buttons, no connector update', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const card = person.last;
    const before = await storedView(bot.app, person.key);
    const choice = firstChoice(card);

    const { status, replies, invokeResponse, refreshed } = await person.pressOn(card, choice);

    expect(status).toBe(200);
    const after = await storedView(bot.app, person.key);
    expect(after.step).not.toBe(before.step);
    expect(replies.length).toBeGreaterThan(0);
    expect(invokeResponse).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect(refreshed!.actions).toEqual([]);
    expect(refreshed!.body.map((b) => b.text)).toContain(t.t('en', 'botframework:card.yourAnswer', { label: choice.label }));
    expect(connector.updatesIn(person.conversationId)).toEqual([]);
  });

  it('acts on a press of a card sent before Action.Execute (empty text, data in value) and replaces that card by an update', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const card = person.last;
    const before = await storedView(bot.app, person.key);
    const choice = firstChoice(card);

    const { replies } = await person.submitOn(card, choice);

    const after = await storedView(bot.app, person.key);
    expect(after.step).not.toBe(before.step);
    expect(replies.length).toBeGreaterThan(0);
    const updates = connector.updatesIn(person.conversationId);
    expect(updates).toHaveLength(1);
    expect(updates[0]!.id).toBe(card.id);
    const retired = updates[0]!.activity as { attachments: { content: { body: { text: string }[]; actions: unknown[] } }[] };
    const content = retired.attachments[0]!.content;
    expect(content.actions).toEqual([]);
    expect(content.body.map((b) => b.text)).toContain(t.t('en', 'botframework:card.yourAnswer', { label: choice.label }));
    // The update went out before the next question, so the old buttons are gone when it appears.
    const nextSent = connector.sentTo(person.conversationId).at(-1)!;
    expect(updates[0]!.seq).toBeLessThan(nextSent.seq);
  });

  it('still answers when the pressed card can no longer be updated (deleted in Teams)', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const before = await storedView(bot.app, person.key);
    connector.failUpdates = true;

    const { status, replies } = await person.pressOn(person.last, firstChoice(person.last));

    expect(status).toBe(200);
    expect(replies).toHaveLength(1);
    expect(connector.updatesIn(person.conversationId)).toEqual([]);
    expect((await storedView(bot.app, person.key)).step).not.toBe(before.step);
  });

  it('answers a press on an outdated card politely and does not act on it', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const oldCard = person.last;
    await person.pressOn(oldCard, firstChoice(oldCard));
    const where = await storedView(bot.app, person.key);

    const { replies } = await person.pressOn(oldCard, firstChoice(oldCard));

    expect((await storedView(bot.app, person.key)).step).toBe(where.step);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toContain(t.t('en', 'common:stale'));
    expect(replies[0]!.choices.map((c) => c.data?.choice)).toEqual(where.choices.map((c) => c.id));
  });

  it('handles the same activity delivered twice once', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const card = person.last;
    const press = person.activity({ text: '', value: firstChoice(card).data, replyToId: card.id });

    const first = await person.post(press);
    const again = await person.post(press);

    expect(first.status).toBe(200);
    expect(first.replies.length).toBeGreaterThan(0);
    expect(again.status).toBe(200);
    expect(again.replies).toEqual([]);
    expect(connector.updatesIn(person.conversationId)).toHaveLength(1);
    const record = await bot.app.store.loadConversation(person.key);
    expect(record?.turn).toBe(2);
  });

  it('answers an Action.Execute press delivered twice once: the repeat gets the card pointing below and no second reply', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'uk-UA', connector });
    await person.join();
    const card = person.last;
    const choice = firstChoice(card);
    const press = person.activity({ type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 'choose', data: choice.data }, trigger: 'manual' }, replyToId: card.id });

    const first = await person.post(press);
    const again = await person.post(press);

    expect(first.refreshed!.body.map((b) => b.text)).toContain(t.t('uk', 'botframework:card.yourAnswer', { label: choice.label }));
    expect(again.status).toBe(200);
    expect(again.replies).toEqual([]);
    expect(again.refreshed!.actions).toEqual([]);
    expect(again.refreshed!.body.map((b) => b.text)).toContain(t.t('uk', 'botframework:card.answeredElsewhere'));
    expect((await bot.app.store.loadConversation(person.key))?.turn).toBe(2);
  });

  it('answers a press on an outdated Action.Execute card with a card pointing to the latest message, and does not act on it', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const oldCard = person.last;
    await person.pressOn(oldCard, firstChoice(oldCard));
    const where = await storedView(bot.app, person.key);

    const { replies, refreshed } = await person.pressOn(oldCard, firstChoice(oldCard));

    expect((await storedView(bot.app, person.key)).step).toBe(where.step);
    expect(replies[0]!.text).toContain(t.t('en', 'common:stale'));
    expect(refreshed!.actions).toEqual([]);
    expect(refreshed!.body.map((b) => b.text)).toContain(t.t('en', 'botframework:card.answeredElsewhere'));
  });

  it('refuses an adaptiveCard/action invoke whose data is not a button of this bot (400), and runs no turn', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const forged = person.activity({ type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 'choose', data: { approve: 'all' } } } });

    const { status, replies, invokeResponse } = await person.post(forged);

    expect(status).toBe(400);
    expect(invokeResponse).toMatchObject({ statusCode: 400, type: 'application/vnd.microsoft.error' });
    expect(replies).toEqual([]);
    expect((await bot.app.store.loadConversation(person.key))?.turn).toBe(1);
  });

  it('serialises two presses of one conversation that arrive together: one acts, the other is outdated', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const card = person.last;
    expect(card.choices.length).toBeGreaterThanOrEqual(1);
    const a = person.activity({ text: '', value: card.choices[0]!.data, replyToId: card.id });
    const b = person.activity({ text: '', value: (card.choices[1] ?? card.choices[0])!.data, replyToId: card.id });

    // The first reply is held at the connector until another one arrives (or a moment has passed):
    // if turns were not serialised up to their last send, the second turn's reply would overtake it.
    let arrived = 0;
    let wakeFirst!: () => void;
    const secondArrived = new Promise<void>((resolve) => (wakeFirst = resolve));
    connector.beforePost = async (conversationId, activity) => {
      if (conversationId !== person.conversationId || activity.type === 'typing') return;
      arrived += 1;
      if (arrived === 1) await Promise.race([secondArrived, new Promise((r) => setTimeout(r, 300))]);
      else wakeFirst();
    };

    const results = await Promise.all([person.post(a), person.post(b)]);

    expect(results.map((r) => r.status)).toEqual([200, 200]);
    const stale = t.t('en', 'common:stale');
    const sent = connector
      .sentTo(person.conversationId)
      .filter((s) => s.activity.type !== 'typing')
      .slice(1)
      .map((s) => parseText(s.activity));
    expect(sent).toHaveLength(2);
    // Whichever ran first moved the flow; the second saw the new step and was not acted on.
    expect(sent.filter((text) => text.includes(stale))).toHaveLength(1);
    expect(sent[1]).toContain(stale);
    const record = await bot.app.store.loadConversation(person.key);
    expect(record?.turn).toBe(3);
  });

  it('with deliveryMode expectReplies returns the cards in the HTTP body and sends nothing to the connector', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    const join = await person.post(person.activity({ type: 'conversationUpdate', membersAdded: [{ id: '28:bot-app-id' }], deliveryMode: 'expectReplies' }));
    const card = join.replies[0]!;
    expect(card.card?.version).toBe('1.5');
    const before = await storedView(bot.app, person.key);

    const press = await person.post(
      person.activity({ text: '', value: firstChoice(card).data, replyToId: 'card-in-a-test-client', deliveryMode: 'expectReplies' }),
    );

    expect(press.status).toBe(200);
    expect((await storedView(bot.app, person.key)).step).not.toBe(before.step);
    expect(press.replies).toHaveLength(1);
    expect(press.replies[0]!.card?.actions.length).toBeGreaterThan(0);
    expect(connector.sentTo(person.conversationId)).toEqual([]);
    expect(connector.updatesIn(person.conversationId)).toEqual([]);
  });

  it('speaks Ukrainian when Teams says uk-UA, however it is cased', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'uk-ua', connector });
    await person.join();
    const view = await storedView(bot.app, person.key);
    expect(person.last.choices.map((c) => c.label)).toEqual(view.choices.map((c) => t.t('uk', c.labelKey, c.params)));
  });
});

describe('POST /api/messages as the Bot Framework Emulator (expectReplies)', () => {
  it('answers in the HTTP body with text and suggested actions', async () => {
    const person = new Person(bot.url, { channelId: 'emulator', locale: 'en-US' });
    const { status, replies } = await person.join();
    expect(status).toBe(200);
    expect(replies).toHaveLength(1);
    const view = await storedView(bot.app, person.key);
    expect(replies[0]!.card).toBeUndefined();
    expect(replies[0]!.choices.map((c) => c.label)).toEqual(view.choices.map((c) => t.t('en', c.labelKey, c.params)));
    expect(replies[0]!.choices.every((c) => c.value === c.label)).toBe(true);
  });

  it('moves on when the person types an offered answer as free text', async () => {
    const person = new Person(bot.url, { channelId: 'emulator', locale: 'en-US' });
    await person.join();
    const before = await storedView(bot.app, person.key);
    await person.say(firstChoice(person.last).label.toLowerCase());
    expect((await storedView(bot.app, person.key)).step).not.toBe(before.step);
  });

  it('remembers an explicit language switch for the person, over the locale the client sends', async () => {
    const userId = `user-${Date.now()}`;
    const person = new Person(bot.url, { channelId: 'emulator', locale: 'uk-UA', userId });
    await person.join();
    await person.say('english');
    expect(person.last.text).toContain(t.t('en', 'common:languageSwitched'));

    const nextConversation = new Person(bot.url, { channelId: 'emulator', locale: 'uk-UA', userId });
    await nextConversation.join();
    const view = await storedView(bot.app, nextConversation.key);
    expect(nextConversation.last.choices.map((c) => c.label)).toEqual(view.choices.map((c) => t.t('en', c.labelKey, c.params)));
  });
});

describe('requests that are not activities', () => {
  it('answers malformed JSON with 400 and keeps serving', async () => {
    const res = await fetch(`${bot.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type": "message",' });
    expect(res.status).toBe(400);
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  });

  it('answers JSON that is not an activity with 400', async () => {
    const res = await fetch(`${bot.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type": "message", "text": "hi"}' });
    expect(res.status).toBe(400);
  });

  it('answers a body over MAX_BODY_BYTES with 413', async () => {
    const person = new Person(bot.url, { channelId: 'emulator' });
    const huge = person.activity({ text: 'x'.repeat(bot.app.config.MAX_BODY_BYTES + 10) });
    const res = await fetch(`${bot.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(huge) });
    expect(res.status).toBe(413);
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  });
});

function parseText(activity: Record<string, unknown>): string {
  const card = (activity.attachments as { content: { body: { text?: string }[] } }[] | undefined)?.[0]?.content;
  return card ? card.body.map((b) => b.text ?? '').join('\n\n') : String(activity.text ?? '');
}
