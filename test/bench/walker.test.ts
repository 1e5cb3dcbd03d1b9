import { describe, expect, it } from 'vitest';
import { pressKey, readActivities, readReply } from '../../bench/lib/reading';
import { percentile, median, seededRandom } from '../../bench/lib/stats';
import { typedAnswer, WalkedConversation, type ConversationOptions } from '../../bench/lib/walker';
import { describeWorkload } from '../../bench/lib/workload';

const card = (actions: unknown[], body: unknown[] = []) => ({
  contentType: 'application/vnd.microsoft.card.adaptive',
  content: { type: 'AdaptiveCard', version: '1.5', body, actions },
});

const submit = (title: string, choice: string, step = 'entry', prompt = 'What happened to the provisioning email?') => ({ type: 'Action.Submit', title, data: { choice, step, prompt, label: title } });

const stepActivity = {
  type: 'message',
  attachments: [
    card(
      [submit('It never arrived', 'never_arrived'), submit('Wrong person', 'wrong_person'), submit('Українська', 'cmd.lang_uk'), submit('Start over', 'cmd.restart'), { type: 'Action.OpenUrl', title: 'Article', url: 'https://example.com' }],
      [{ type: 'TextBlock', text: 'What happened to the provisioning email?' }],
    ),
  ],
};
const stepCard = { activities: [stepActivity] };
const ending = { activities: [{ type: 'message', attachments: [card([submit('Start over', 'cmd.restart', 'done')], [{ type: 'TextBlock', text: 'Resolved, goodbye.' }])] }] };

const options: ConversationOptions = { runId: 't1', channelId: 'msteams', serviceUrl: 'http://127.0.0.1:9', maxTurns: 5, opener: 'conversationUpdate', delivery: 'expectReplies' };
const viaConnector: ConversationOptions = { ...options, delivery: 'connector' };

describe('reading a reply', () => {
  it('takes the flow choices of an Adaptive Card and keeps commands apart, links left out', () => {
    const reading = readReply(stepCard);
    expect(reading.offers.map((o) => o.label)).toEqual(['It never arrived', 'Wrong person']);
    expect(reading.commands.map((o) => o.label)).toEqual(['Українська', 'Start over']);
    expect(reading.offers[0]!.value).toMatchObject({ choice: 'never_arrived', step: 'entry' });
    expect(reading.text).toContain('provisioning email');
  });

  it('reads messages posted to the connector with their ids, and skips typing indicators', () => {
    const reading = readActivities([
      { id: 'a7', activity: { type: 'typing' } },
      { id: 'a8', activity: stepActivity },
    ]);
    expect(reading.activities).toBe(1);
    expect(reading.activityIds).toEqual(['a8']);
    expect(reading.offers.every((o) => o.activityId === 'a8')).toBe(true);
  });

  it('takes suggested actions and hero-card buttons', () => {
    const reading = readReply({
      activities: [
        { type: 'message', text: 'Pick one', suggestedActions: { actions: [{ type: 'imBack', title: 'Yes', value: 'yes' }] } },
        { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.hero', content: { buttons: [{ type: 'messageBack', title: 'No', text: 'no', value: { choice: 'no' } }] } }] },
      ],
    });
    expect(reading.offers).toEqual([
      { label: 'Yes', text: 'yes' },
      { label: 'No', text: 'no', value: { choice: 'no' } },
    ]);
  });

  it('finds inputs nested in containers', () => {
    const reading = readReply({
      activities: [{ attachments: [card([{ type: 'Action.Submit', title: 'Save', data: { choice: 'submit' } }], [{ type: 'Container', items: [{ type: 'Input.Text', id: 'email', label: 'New contact email' }] }])] }],
    });
    expect(reading.inputs).toEqual([{ id: 'email', hint: 'New contact email email' }]);
  });

  it('reads a body that is not an expectReplies answer as nothing offered', () => {
    expect(readReply({ nope: true })).toMatchObject({ activities: 0, offers: [] });
  });

  it('identifies a press by its choice, not by the words the card showed', () => {
    const a = { value: { choice: 'yes', step: 'confirm', prompt: 'Is bench.user1@example.com right?', label: 'Yes' } };
    const b = { value: { choice: 'yes', step: 'confirm', prompt: 'Is bench.user2@example.com right?', label: 'Так' } };
    expect(pressKey(a)).toBe(pressKey(b));
    expect(pressKey(a)).not.toBe(pressKey({ value: { choice: 'no', step: 'confirm' } }));
  });
});

describe('a walked conversation', () => {
  it('opens with the conversationUpdate Teams sends when the bot is added', () => {
    const c = new WalkedConversation(7, options, seededRandom(1));
    const first = c.next()!;
    expect(first).toMatchObject({ type: 'conversationUpdate', deliveryMode: 'expectReplies', conversation: { id: 'bench-t1-7' } });
    expect((first.membersAdded as { id: string }[])[0]!.id).toBe((first.recipient as { id: string }).id);
  });

  it('presses one of the offered choices and stops when nothing is offered', () => {
    const c = new WalkedConversation(1, options, seededRandom(1));
    c.next();
    c.accept(readReply(stepCard));
    const press = c.next()!;
    expect(press.type).toBe('message');
    expect(['never_arrived', 'wrong_person']).toContain((press.value as { choice: string }).choice);
    expect(press.id).toBe('bench-t1-1-a1');
    c.accept(readReply(ending));
    expect(c.next()).toBeUndefined();
  });

  it('with connector delivery, replies to the card it pressed and asks for no expectReplies', () => {
    const c = new WalkedConversation(1, viaConnector, seededRandom(1));
    expect(c.next()).not.toHaveProperty('deliveryMode');
    c.accept(readActivities([{ id: 'a41', activity: stepActivity }]));
    expect(c.next()).toMatchObject({ type: 'message', replyToId: 'a41' });
  });

  it('presses an Action.Execute button as Teams does: an adaptiveCard/action invoke with the verb and the data, in reply to its card', () => {
    const execute = (title: string, choice: string) => ({ type: 'Action.Execute', verb: 'choose', title, data: { choice, step: 'entry', prompt: 'Q', label: title } });
    const c = new WalkedConversation(2, viaConnector, seededRandom(1));
    c.next();
    c.accept(readActivities([{ id: 'a42', activity: { type: 'message', attachments: [card([execute('Wrong person', 'wrong_person')])] } }]));
    expect(c.next()).toMatchObject({
      type: 'invoke',
      name: 'adaptiveCard/action',
      replyToId: 'a42',
      value: { action: { type: 'Action.Execute', verb: 'choose', data: { choice: 'wrong_person', step: 'entry' } }, trigger: 'manual' },
    });
    // Replayed verbatim to the echo bot, the press is the same invoke.
    const echo = new WalkedConversation(3, viaConnector, seededRandom(1), { replay: { script: c.script(), mode: 'verbatim' } });
    echo.next();
    echo.accept(readActivities([{ id: 'e1', activity: { type: 'message', text: 'Hello and welcome!' } }]));
    expect(echo.next()).toMatchObject({ type: 'invoke', name: 'adaptiveCard/action', replyToId: 'e1', value: { action: { verb: 'choose', data: { choice: 'wrong_person' } } } });
  });

  it('fills a form and sends it with its submit data', () => {
    const c = new WalkedConversation(3, options, seededRandom(1));
    c.next();
    c.accept(readReply({ activities: [{ attachments: [card([{ type: 'Action.Submit', title: 'Save', data: { choice: 'submit', step: 'email' } }], [{ type: 'Input.Text', id: 'newEmail', placeholder: 'name@example.com (email)' }])] }] }));
    expect(c.next()!.value).toEqual({ choice: 'submit', step: 'email', newEmail: 'bench.user3@example.com' });
  });

  it('leaves after maxTurns', () => {
    const c = new WalkedConversation(1, { ...options, maxTurns: 1 }, seededRandom(1));
    c.next();
    c.accept(readReply(stepCard));
    expect(c.next()).toBeUndefined();
    expect(c.ending()).toBe('max turns');
  });
});

describe('one workload for every bot: recorded walks replayed', () => {
  function recordedWalk() {
    const c = new WalkedConversation(1, viaConnector, seededRandom(3));
    c.next();
    c.accept(readActivities([{ id: 'a1', activity: stepActivity }]));
    const press = c.next()!;
    c.accept(readReply(ending));
    expect(c.next()).toBeUndefined();
    return { script: c.script(), press };
  }

  it('records the opener and each press', () => {
    const { script, press } = recordedWalk();
    expect(script.locale).toBe('en-US');
    expect(script.steps.map((s) => s.kind)).toEqual(['open', 'press']);
    expect(script.steps[1]!.value).toEqual(press.value);
  });

  it('the product bot follows the script: the same choice on its own card, whatever the card says', () => {
    const { script, press } = recordedWalk();
    // Another run of the walk, seeded differently: without the script it could pick the other choice.
    for (const seed of [1, 2, 3, 4, 5]) {
      const c = new WalkedConversation(9, viaConnector, seededRandom(seed), { replay: { script, mode: 'follow' } });
      expect(c.next()).toMatchObject({ type: 'conversationUpdate' });
      const otherPrompt = { ...stepActivity, attachments: [card([submit('It never arrived', 'never_arrived', 'entry', 'Other words'), submit('Wrong person', 'wrong_person', 'entry', 'Other words')])] };
      c.accept(readActivities([{ id: 'a9', activity: otherPrompt }]));
      const again = c.next()!;
      expect((again.value as { choice: string }).choice).toBe((press.value as { choice: string }).choice);
      expect(again.replyToId).toBe('a9');
      expect(c.offScript).toBe(0);
      c.accept(readReply(stepCard));
      expect(c.next()).toBeUndefined(); // the script is over, whatever the bot offers now
    }
  });

  it('counts a step the bot did not offer as off-script and walks on', () => {
    const { script } = recordedWalk();
    const c = new WalkedConversation(9, viaConnector, seededRandom(1), { replay: { script, mode: 'follow' } });
    c.next();
    c.accept(readActivities([{ id: 'a2', activity: { type: 'message', attachments: [card([submit('Something else', 'other')])] } }]));
    expect((c.next()!.value as { choice: string }).choice).toBe('other');
    expect(c.offScript).toBe(1);
  });

  it('the echo bot gets the same activities verbatim, one after each of its replies', () => {
    const { script, press } = recordedWalk();
    const c = new WalkedConversation(11, viaConnector, seededRandom(1), { replay: { script, mode: 'verbatim' } });
    expect(c.next()).toMatchObject({ type: 'conversationUpdate' });
    c.accept(readActivities([{ id: 'a5', activity: { type: 'message', text: 'Hello and welcome!' } }]));
    expect(c.next()).toMatchObject({ type: 'message', value: press.value, replyToId: 'a5' });
    c.accept(readActivities([{ id: 'a6', activity: { type: 'message', text: 'Echo: ' } }]));
    expect(c.next()).toBeUndefined();
  });

  it('describes the workload', () => {
    const { script } = recordedWalk();
    expect(describeWorkload([script, script])).toMatchObject({ walks: 2, turnsPerConversation: { mean: 2 }, openers: { conversationUpdate: 2 }, distinctPaths: 1, turnShares: { open: 0.5, press: 0.5 } });
  });
});

describe('a returning person', () => {
  const back = (last: ReturnType<typeof readReply>) =>
    new WalkedConversation(5, viaConnector, seededRandom(1), { identity: { id: 'bench-t1-c3-5', userId: 'bench-t1-c3-5-user' }, last, activityId: 'bench-t1-c3-5-r1' });

  it('presses a choice its stored card offers, in reply to that card, with an id of its own', () => {
    const c = back(readActivities([{ id: 'a77', activity: stepActivity }]));
    const press = c.next()!;
    expect(press).toMatchObject({ id: 'bench-t1-c3-5-r1', replyToId: 'a77', conversation: { id: 'bench-t1-c3-5' }, from: { id: 'bench-t1-c3-5-user' } });
    expect(['never_arrived', 'wrong_person']).toContain((press.value as { choice: string }).choice);
    c.accept(readReply(stepCard));
    expect(c.next()).toBeUndefined(); // one turn
  });

  it('starts over from an ended conversation, or says hello when nothing is known', () => {
    expect(back(readReply(ending)).next()!.value).toMatchObject({ choice: 'cmd.restart' });
    expect(back({ ...readReply({ activities: [] }), activities: 1 }).next()).toMatchObject({ type: 'message', text: 'hi' });
  });
});

describe('bench helpers', () => {
  it('answers text steps by what they ask for', () => {
    expect(typedAnswer('What is the new contact email?', 5)).toBe('bench.user5@example.com');
    expect(typedAnswer('Your order number', 5)).toMatch(/^\d{9}$/);
  });

  it('computes nearest-rank percentiles and medians', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });
});
