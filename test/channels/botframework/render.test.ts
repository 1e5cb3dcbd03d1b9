import { describe, expect, it } from 'vitest';
import { answeredCard, escapeMarkdown, renderMessages, stepCard, textMessage } from '../../../src/channels/botframework/render';
import type { RenderedMessage } from '../../../src/engine/types';

const t = (key: string, params?: Record<string, unknown>) => (params ? `${key}(${JSON.stringify(params)})` : key);

const message: RenderedMessage = {
  paragraphs: ['Which status does the order line have?', 'Look at the line in CCW.'],
  choices: [
    { id: 'awaiting', label: 'Awaiting Provisioning Details' },
    { id: 'closed', label: 'Closed' },
  ],
  links: [{ label: 'Control Hub [admin]', url: 'https://admin.webex.com' }],
  facts: [{ label: 'Order', value: '123_456' }],
  step: 'orderLineStatus',
  expects: 'choice',
};

describe('stepCard (Teams)', () => {
  const card = stepCard(message, t);

  it('is an Adaptive Card 1.5 from the JSON template', () => {
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json' });
  });

  it('has one Action.Submit per choice carrying the choice id, the step and the question', () => {
    expect(card.actions).toEqual([
      { type: 'Action.Submit', title: 'Awaiting Provisioning Details', data: { choice: 'awaiting', step: 'orderLineStatus', prompt: message.paragraphs.join('\n\n'), label: 'Awaiting Provisioning Details' } },
      { type: 'Action.Submit', title: 'Closed', data: { choice: 'closed', step: 'orderLineStatus', prompt: message.paragraphs.join('\n\n'), label: 'Closed' } },
    ]);
  });

  it('shows paragraphs, facts and links as real markdown links', () => {
    const texts = card.body.filter((b) => b.type === 'TextBlock').map((b) => b.text);
    expect(texts).toContain('Which status does the order line have?');
    expect(texts).toContain('[Control Hub \\[admin\\]](https://admin.webex.com)');
    expect(card.body).toContainEqual({ type: 'FactSet', facts: [{ title: 'Order', value: '123_456' }] });
  });

  it('does not share state between cards built from the template', () => {
    const other = stepCard({ ...message, choices: [] }, t);
    expect(other.actions).toEqual([]);
    expect(card.actions).toHaveLength(2);
  });
});

describe('answeredCard', () => {
  it('keeps the question, shows the chosen answer and has no buttons', () => {
    const card = answeredCard('Which status?\n\nLook at CCW.', 'Closed', t);
    expect(card.actions).toEqual([]);
    expect(card.body.map((b) => b.text)).toEqual(['Which status?', 'Look at CCW.', 'card.yourAnswer({"label":"Closed"})']);
  });

  it('points to the latest message when the press was outdated', () => {
    const card = answeredCard('Which status?', undefined, t);
    expect(card.body.map((b) => b.text)).toEqual(['Which status?', 'card.answeredElsewhere']);
  });
});

describe('textMessage (Emulator and other channels)', () => {
  it('puts the choices in suggested actions that type the label back', () => {
    const activity = textMessage(message, t);
    expect(activity.suggestedActions?.actions).toEqual([
      { type: 'imBack', title: 'Awaiting Provisioning Details', value: 'Awaiting Provisioning Details' },
      { type: 'imBack', title: 'Closed', value: 'Closed' },
    ]);
    expect(activity.textFormat).toBe('markdown');
  });

  it('writes links as markdown links and escapes what would turn into formatting', () => {
    const text = textMessage(message, t).text!;
    expect(text).toContain('[Control Hub \\[admin\\]](https://admin.webex.com)');
    expect(text).toContain('**Order:** 123\\_456');
    expect(escapeMarkdown('webex_comm@webex.com *now*')).toBe('webex\\_comm@webex.com \\*now\\*');
  });

  it('has no suggested actions when there is nothing to choose', () => {
    expect(textMessage({ ...message, choices: [] }, t).suggestedActions).toBeUndefined();
  });
});

describe('renderMessages', () => {
  it('gives Teams a card and other channels text', () => {
    expect(renderMessages('msteams', [message], t)[0]!.attachments?.[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(renderMessages('emulator', [message], t)[0]!.attachments).toBeUndefined();
    expect(renderMessages('directline', [message], t)[0]!.text).toContain('Which status');
  });
});

describe('inputHint on Teams cards', () => {
  it('says expectingInput for a step that waits for typed text or a file, and nothing for a choice or an ending', () => {
    const text: RenderedMessage = { ...message, choices: [], expects: 'text', step: 'caseDescription' };
    const file: RenderedMessage = { ...text, expects: 'attachment' };
    const ending: RenderedMessage = { ...message, choices: [], expects: undefined, step: 'done' };
    const [typed, attached, chosen, ended] = renderMessages('msteams', [text, file, message, ending], t);
    expect(typed!.inputHint).toBe('expectingInput');
    expect(attached!.inputHint).toBe('expectingInput');
    expect(chosen!.inputHint).toBeUndefined();
    expect(ended!.inputHint).toBeUndefined();
  });
});
