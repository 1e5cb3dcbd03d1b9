/**
 * Issue 14, item 10: Web Chat renders the bot's text, and the text of its Adaptive Cards, as markdown
 * with raw HTML (markdown-it, `html: true`). Whatever a person typed and the bot repeats (an email, a
 * file name, a customer's name) must come out as that text, never as an element, a link or emphasis;
 * what the bot itself formats (bold labels, the links it builds) stays formatted. The rendered text is
 * checked with markdown-it set up as Web Chat sets it up.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { renderForWebChat } from '../../../src/channels/botframework/directline-bridge';
import { answeredCard, escapeMarkdown, stepCard, textMessage } from '../../../src/channels/botframework/render';
import type { RenderedMessage } from '../../../src/engine/types';
import { createTranslator } from '../../../src/i18n';

const translator = createTranslator();
const t = (key: string, params?: Record<string, unknown>) => translator.t('en', `botframework:${key}`, params);

// Web Chat's own options (botframework-webchat renderMarkdown): raw HTML on, bare URLs linked.
const MarkdownIt = createRequire(import.meta.url)('markdown-it') as new (options: object) => { render(text: string): string };
const webChatMarkdown = new MarkdownIt({ breaks: false, html: true, linkify: true, typographer: true, xhtmlOut: true });

const PAYLOADS = ['<img src=x onerror=alert(1)>', '[link](javascript:alert(1))', '**x**', '![x](x.png)', '__init__@example.com', '~~gone~~', '&lt;b&gt;'];

/** The HTML Web Chat makes of a piece of markdown, without the paragraph around it. */
function html(markdown: string): string {
  return webChatMarkdown.render(markdown).trim().replace(/^<p>|<\/p>$/g, '');
}

/** The text the HTML shows (entities decoded). */
function shown(markup: string): string {
  return markup
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

function message(payload: string): RenderedMessage {
  return {
    paragraphs: [`What should the new email be? (Current: ${payload})`],
    choices: [{ id: 'confirm', label: 'Confirm' }],
    links: [{ label: 'Support Case Manager', url: 'https://www.cisco.com/go/cs' }],
    facts: [
      { label: 'Screenshots', value: payload },
      { label: 'Customer', value: payload },
    ],
    step: 'summary',
  };
}

type Card = { body: Array<{ type: string; text?: string; facts?: Array<{ title: string; value: string }> }> };

function cardTexts(card: Card): string[] {
  return card.body.flatMap((b) => (b.type === 'FactSet' ? b.facts!.flatMap((f) => [f.title, f.value]) : [b.text ?? '']));
}

describe('what Web Chat shows of words a person typed', () => {
  it.each(PAYLOADS)('shows %s in a card as typed, with no element, link or emphasis', (payload) => {
    const activity = renderForWebChat(message(payload), t);
    const card = activity.attachments![0]!.content as Card;
    const texts = cardTexts(card).map(html);
    const withPayload = texts.filter((h) => shown(h).includes(payload));
    // The paragraph and both facts.
    expect(withPayload).toHaveLength(3);
    for (const h of withPayload) expect(h).not.toMatch(/<(img|a|strong|em|s|del|b)\b/);
  });

  it.each(PAYLOADS)('shows %s in a text message as typed', (payload) => {
    const activity = renderForWebChat({ ...message(payload), facts: [] }, t);
    const h = html(activity.text!);
    expect(shown(h)).toContain(payload);
    expect(h).not.toMatch(/<(img|strong|em|s|del|b)\b/);
    // The only link is the one the bot built.
    expect(h.match(/<a\b[^>]*>/g)).toEqual(['<a href="https://www.cisco.com/go/cs">']);
  });

  it('keeps the formatting the bot adds: its links in cards, bold fact labels in text', () => {
    const card = renderForWebChat(message('<b>x</b>'), t).attachments![0]!.content as Card;
    expect(cardTexts(card).map(html)).toContain('<a href="https://www.cisco.com/go/cs">Support Case Manager</a>');
    // The same facts as text (the Emulator): the label bold, the value as typed.
    const text = html(textMessage(message('<b>x</b>'), t).text!);
    expect(text).toContain('<strong>Customer:</strong> &lt;b&gt;x&lt;/b&gt;');
  });

  it('shows the question a pressed card carried back as text, whatever the client put there', () => {
    const card = answeredCard('<img src=x onerror=alert(1)>\n\n[link](javascript:alert(1))', 'Confirm', t, { plain: escapeMarkdown }) as unknown as Card;
    const texts = cardTexts(card).map(html);
    expect(texts.map(shown)).toEqual(['<img src=x onerror=alert(1)>', '[link](javascript:alert(1))', t('card.yourAnswer', { label: 'Confirm' })]);
    for (const h of texts) expect(h).not.toMatch(/<(img|a)\b/);
  });

  it('leaves Teams cards as they were: Teams shows no HTML, and some Teams clients show backslashes', () => {
    const card = stepCard(message('webex_comm@webex.com'), t) as unknown as Card;
    expect(cardTexts(card)).toContain('webex_comm@webex.com');
  });
});
