/**
 * Turns the engine's rendered (translated, format-free) messages into Webex messages: markdown that
 * always carries the whole content (it is what notifications and card-less clients show), plus one
 * Adaptive Card 1.3 when there is something to press or fill in. Webex takes at most 7439 bytes of
 * markdown per message, so a long reply becomes several messages, split between paragraphs, lines
 * or words, never cut; the card rides on the last one.
 */
import type { Locale, RenderedMessage } from '../../engine/types';
import type { Translator } from '../../i18n';
import { ADAPTIVE_CARD_CONTENT_TYPE, type AdaptiveCardAttachment } from './api';

export const MARKDOWN_MAX_BYTES = 7439;

export interface OutgoingMessage {
  markdown: string;
  attachments?: AdaptiveCardAttachment[];
}

/** What a card's Action.Submit carries back (merged with Input.* values by Webex). */
export interface SubmitData {
  choice?: string;
  step?: string;
}

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Backslash-escapes what Webex markdown would otherwise interpret in plain text. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_~[\]<>#|]/g, (c) => `\\${c}`);
}

interface Block {
  markdown: string;
  /** The plain text of a paragraph (or a piece of one), for the card. */
  paragraph?: string;
}

export function renderMessage(
  message: RenderedMessage,
  locale: Locale,
  translator: Translator,
  maxBytes = MARKDOWN_MAX_BYTES,
): OutgoingMessage[] {
  const t = (key: string, params?: Record<string, unknown>) => translator.t(locale, key, params);
  const blocks: Block[] = [];
  for (const p of message.paragraphs) {
    for (const piece of splitPlain(p, maxBytes)) blocks.push({ markdown: escapeMarkdown(piece), paragraph: piece });
  }
  if (message.facts.length) {
    const lines = message.facts.map((f) => `- **${escapeMarkdown(f.label)}:** ${escapeMarkdown(f.value)}`);
    blocks.push(...packLines(lines, maxBytes).map((markdown) => ({ markdown })));
  }
  if (message.links.length) {
    const lines = message.links.map((l) => `- [${escapeMarkdown(l.label)}](${l.url.replace(/[()\s]/g, encodeURIComponent)})`);
    blocks.push(...packLines(lines, maxBytes).map((markdown) => ({ markdown })));
  }
  if (message.choices.length) {
    const lines = [escapeMarkdown(t('webex:choicesHint')), ...message.choices.map((c, i) => `${i + 1}. ${escapeMarkdown(c.label)}`)];
    blocks.push(...packLines(lines, maxBytes).map((markdown) => ({ markdown })));
  }
  if (blocks.length === 0) return [];

  const chunks: Block[][] = [[]];
  let size = 0;
  for (const block of blocks) {
    const current = chunks[chunks.length - 1]!;
    const added = bytes(block.markdown) + (current.length ? 2 : 0);
    if (current.length && size + added > maxBytes) {
      chunks.push([block]);
      size = bytes(block.markdown);
    } else {
      current.push(block);
      size += added;
    }
  }

  const out: OutgoingMessage[] = chunks.map((chunk) => ({ markdown: chunk.map((b) => b.markdown).join('\n\n') }));
  if (needsCard(message)) {
    const last = chunks[chunks.length - 1]!;
    let paragraphs = last.flatMap((b) => (b.paragraph === undefined ? [] : [b.paragraph]));
    if (paragraphs.length === 0) {
      const lastParagraph = blocks.filter((b) => b.paragraph !== undefined).pop()?.paragraph;
      paragraphs = lastParagraph ? [lastParagraph] : [];
    }
    out[out.length - 1]!.attachments = [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: buildCard(message, paragraphs, t) }];
  }
  return out;
}

/** A plain-markdown note, e.g. the answer that replaces a retired card. */
export function renderNote(text: string): OutgoingMessage {
  return { markdown: escapeMarkdown(text) };
}

function needsCard(m: RenderedMessage): boolean {
  return m.choices.length > 0 || m.links.length > 0 || m.facts.length > 0 || m.expects === 'text';
}

function buildCard(
  m: RenderedMessage,
  paragraphs: string[],
  t: (key: string, params?: Record<string, unknown>) => string,
): Record<string, unknown> {
  const body: Record<string, unknown>[] = [];
  if (paragraphs.length) {
    body.push({
      type: 'Container',
      items: paragraphs.map((text, i) => ({
        type: 'TextBlock',
        text,
        wrap: true,
        // The question (the last paragraph) stands out from the explanation above it.
        ...(i === paragraphs.length - 1 && paragraphs.length > 1 ? { weight: 'Bolder' } : {}),
      })),
    });
  }
  if (m.facts.length) {
    body.push({ type: 'FactSet', facts: m.facts.map((f) => ({ title: f.label, value: f.value })) });
  }
  const actions: Record<string, unknown>[] = m.choices.map((c) => ({
    type: 'Action.Submit',
    title: c.label,
    data: { choice: c.id, step: m.step } satisfies SubmitData,
  }));
  if (m.expects === 'text') {
    body.push({ type: 'Input.Text', id: 'text', placeholder: t('webex:textPlaceholder'), isMultiline: false, maxLength: 500 });
    actions.push({ type: 'Action.Submit', title: t('webex:send'), data: { step: m.step } satisfies SubmitData });
  }
  for (const l of m.links) actions.push({ type: 'Action.OpenUrl', title: l.label, url: l.url });
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.3',
    body,
    actions,
  };
}

/** Splits plain text so that each piece, once escaped, fits: at line breaks, then spaces, then characters. */
function splitPlain(text: string, maxBytes: number): string[] {
  if (bytes(escapeMarkdown(text)) <= maxBytes) return [text];
  const pieces: string[] = [];
  let current = '';
  let size = 0;
  const flush = () => {
    if (current.trim()) pieces.push(current.trim());
    current = '';
    size = 0;
  };
  // Tokens keep their separators, so joining the pieces gives the text back (modulo edge spaces).
  for (const token of text.split(/(?<=\n)|(?<= )/)) {
    const tokenSize = bytes(escapeMarkdown(token));
    if (tokenSize > maxBytes) {
      flush();
      for (const ch of token) {
        const chSize = bytes(escapeMarkdown(ch));
        if (size + chSize > maxBytes) flush();
        current += ch;
        size += chSize;
      }
      continue;
    }
    if (size + tokenSize > maxBytes) flush();
    current += token;
    size += tokenSize;
  }
  flush();
  return pieces;
}

/** Groups already-rendered lines into blocks that fit. */
function packLines(lines: string[], maxBytes: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const line of lines) {
    const fitted = bytes(line) > maxBytes ? splitRendered(line, maxBytes) : [line];
    for (const l of fitted) {
      const candidate = current ? `${current}\n${l}` : l;
      if (current && bytes(candidate) > maxBytes) {
        out.push(current);
        current = l;
      } else {
        current = candidate;
      }
    }
  }
  if (current) out.push(current);
  return out;
}

/** Last resort for an absurdly long rendered line: cut between characters, never inside an escape. */
function splitRendered(line: string, maxBytes: number): string[] {
  const out: string[] = [];
  let current = '';
  const chars = [...line];
  for (let i = 0; i < chars.length; i++) {
    const unit = chars[i] === '\\' && i + 1 < chars.length ? `\\${chars[++i]}` : chars[i]!;
    if (bytes(current) + bytes(unit) > maxBytes) {
      out.push(current);
      current = '';
    }
    current += unit;
  }
  if (current) out.push(current);
  return out;
}
