import { describe, expect, it } from 'vitest';
import { escapeMarkdown, MARKDOWN_MAX_BYTES, renderMessage } from '../../../src/channels/webex/render';
import type { RenderedMessage } from '../../../src/engine/types';
import { createTranslator } from '../../../src/i18n';

const translator = createTranslator();
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const unescape = (s: string) => s.replace(/\\(.)/g, '$1');

function message(over: Partial<RenderedMessage> = {}): RenderedMessage {
  return { paragraphs: ['Check webex_comm@webex.com.', 'Did they find it?'], choices: [], links: [], facts: [], step: 'spamCheck', expects: 'choice', ...over };
}

describe('renderMessage', () => {
  it('puts everything in the markdown fallback and the interactive part on an Adaptive Card 1.3', () => {
    const [out, ...rest] = renderMessage(
      message({
        choices: [
          { id: 'found', label: 'Yes, found it' },
          { id: 'not_found', label: 'No' },
        ],
        facts: [{ label: 'Sender', value: 'webex_comm@webex.com' }],
        links: [{ label: 'Control Hub', url: 'https://admin.webex.com' }],
      }),
      'en',
      translator,
    );
    expect(rest).toEqual([]);
    expect(out!.markdown).toContain('webex\\_comm@webex.com');
    expect(out!.markdown).toContain('1. Yes, found it\n2. No');
    expect(out!.markdown).toContain('- **Sender:** webex\\_comm@webex.com');
    expect(out!.markdown).toContain('[Control Hub](https://admin.webex.com)');
    const card = out!.attachments![0]!;
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.content).toMatchObject({
      type: 'AdaptiveCard',
      version: '1.3',
      body: [
        { type: 'Container', items: [{ type: 'TextBlock', text: 'Check webex_comm@webex.com.' }, { type: 'TextBlock', text: 'Did they find it?', weight: 'Bolder' }] },
        { type: 'FactSet', facts: [{ title: 'Sender', value: 'webex_comm@webex.com' }] },
      ],
      actions: [
        { type: 'Action.Submit', title: 'Yes, found it', data: { choice: 'found', step: 'spamCheck' } },
        { type: 'Action.Submit', title: 'No', data: { choice: 'not_found', step: 'spamCheck' } },
        { type: 'Action.OpenUrl', title: 'Control Hub', url: 'https://admin.webex.com' },
      ],
    });
  });

  it('offers a text input with a translated Send button when the step expects typed text', () => {
    const [out] = renderMessage(message({ expects: 'text', step: 'orderNumber' }), 'uk', translator);
    const content = out!.attachments![0]!.content as { body: { type: string; id?: string; placeholder?: string }[]; actions: unknown[] };
    expect(content.body.at(-1)).toMatchObject({ type: 'Input.Text', id: 'text', placeholder: translator.t('uk', 'webex:textPlaceholder') });
    expect(content.actions).toEqual([{ type: 'Action.Submit', title: 'Надіслати', data: { step: 'orderNumber' } }]);
  });

  it('sends plain markdown without a card when there is nothing to press', () => {
    const out = renderMessage(message({ step: 'emailFound' }), 'en', translator);
    expect(out).toEqual([{ markdown: 'Check webex\\_comm@webex.com.\n\nDid they find it?' }]);
  });

  it('splits a single enormous Ukrainian word between characters, losing nothing', () => {
    const word = 'ї'.repeat(10_000); // 20 000 bytes, no space to split at
    const out = renderMessage(message({ paragraphs: [word] }), 'uk', translator);
    expect(out.length).toBe(3);
    for (const m of out) expect(bytes(m.markdown)).toBeLessThanOrEqual(MARKDOWN_MAX_BYTES);
    expect(out.map((m) => m.markdown).join('')).toBe(word);
  });

  it('never separates an escape from its character when splitting', () => {
    const text = '_'.repeat(9_000); // every character escaped: 18 000 bytes
    const out = renderMessage(message({ paragraphs: [text], choices: [{ id: 'a', label: 'A' }] }), 'en', translator);
    for (const m of out) {
      expect(bytes(m.markdown)).toBeLessThanOrEqual(MARKDOWN_MAX_BYTES);
      expect(m.markdown.split('\n\n')[0]).toMatch(/^(\\_)+$/);
    }
    const paragraphsBack = out.map((m) => m.markdown.split('\n\n')[0]!).map(unescape).join('');
    expect(paragraphsBack).toBe(text);
    expect(out.filter((m) => m.attachments)).toHaveLength(1);
    expect(out.at(-1)!.attachments).toBeDefined();
  });

  it('splits between paragraphs first and keeps their order', () => {
    const paragraphs = Array.from({ length: 30 }, (_, i) => `Paragraph ${i} ${'x'.repeat(600)}`);
    const out = renderMessage(message({ paragraphs }), 'en', translator);
    expect(out.length).toBeGreaterThan(1);
    const back = out.flatMap((m) => m.markdown.split('\n\n'));
    expect(back).toEqual(paragraphs);
  });
});

describe('escapeMarkdown', () => {
  it('escapes what Webex markdown would interpret', () => {
    expect(escapeMarkdown('a_b *c* [d](e) <f> #g `h` ~i~ |j| \\k')).toBe('a\\_b \\*c\\* \\[d\\](e) \\<f\\> \\#g \\`h\\` \\~i\\~ \\|j\\| \\\\k');
  });
});
