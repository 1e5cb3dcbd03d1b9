import { describe, expect, it } from 'vitest';
import { readReply, typedAnswer, WalkedConversation, type ConversationOptions } from '../../bench/lib/walker';
import { percentile, median, seededRandom } from '../../bench/lib/stats';

const card = (actions: unknown[], body: unknown[] = []) => ({
  contentType: 'application/vnd.microsoft.card.adaptive',
  content: { type: 'AdaptiveCard', version: '1.5', body, actions },
});

const stepCard = {
  activities: [
    {
      type: 'message',
      attachments: [
        card(
          [
            { type: 'Action.Submit', title: 'It never arrived', data: { choice: 'never_arrived', step: 'entry' } },
            { type: 'Action.Submit', title: 'Wrong person', data: { choice: 'wrong_person', step: 'entry' } },
            { type: 'Action.Submit', title: 'Українська', data: { choice: 'cmd.lang_uk', step: 'entry' } },
            { type: 'Action.OpenUrl', title: 'Article', url: 'https://example.com' },
          ],
          [{ type: 'TextBlock', text: 'What happened to the provisioning email?' }],
        ),
      ],
    },
  ],
};

const options: ConversationOptions = { runId: 't1', channelId: 'msteams', serviceUrl: 'http://127.0.0.1:9', maxTurns: 5, opener: 'conversationUpdate' };

describe('reading a reply', () => {
  it('takes the flow choices of an Adaptive Card and leaves out commands and links', () => {
    const reading = readReply(stepCard);
    expect(reading.offers.map((o) => o.label)).toEqual(['It never arrived', 'Wrong person']);
    expect(reading.offers[0]!.value).toEqual({ choice: 'never_arrived', step: 'entry' });
    expect(reading.text).toContain('provisioning email');
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
    c.accept(readReply({ activities: [{ type: 'message', text: 'Resolved, goodbye.' }] }));
    expect(c.next()).toBeUndefined();
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
