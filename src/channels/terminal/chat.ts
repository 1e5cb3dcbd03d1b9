/**
 * The terminal channel: one conversation on a text stream. The bot's text, links, facts and
 * numbered options are printed; a typed number presses that option, anything else goes to the
 * engine as free text (answers, and the global commands: back, start over, help, language,
 * support). Lines are handled strictly one after another, so a piped script gives exactly the
 * answers a person typing would get. At end of input the chat ends cleanly.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Engine } from '../../engine/engine';
import { normalise } from '../../engine/recognizer';
import type { Inbound, Locale, RenderedMessage, TurnResult } from '../../engine/types';
import type { Translator } from '../../i18n';

export const TERMINAL_CHANNEL = 'terminal';

export interface TerminalChatOptions {
  engine: Pick<Engine, 'handle'>;
  translator: Translator;
  input: Readable;
  output: Writable;
  /** The language to start in (`--lang`); the person can switch at any time. */
  locale: Locale;
  /** Defaults to a fresh id per run: every run is a new conversation with a new person. */
  conversationId?: string;
  userId?: string;
  /** Echo each input line after the prompt (for piped input, so the output reads as a dialogue). */
  echo?: boolean;
  /** Show a prompt before reading (interactive use). */
  prompt?: boolean;
  /** Ends the chat as end of input would (Ctrl+C). */
  signal?: AbortSignal;
}

/** Renders one bot message as plain text: paragraphs, links, facts, then the numbered options. */
export function renderMessage(message: RenderedMessage, t: (key: string) => string): string {
  const out: string[] = [];
  out.push(message.paragraphs.join('\n\n'));
  if (message.links.length) out.push(message.links.map((l) => `  ${l.label}: ${l.url}`).join('\n'));
  if (message.facts.length) out.push(message.facts.map((f) => `  ${f.label}: ${f.value}`).join('\n'));
  if (message.choices.length) out.push(message.choices.map((c, i) => `  ${i + 1}. ${c.label}`).join('\n'));
  if (message.expects === 'choice' && message.choices.length) out.push(t('terminal:answerHint'));
  return out.filter((s) => s.length > 0).join('\n\n');
}

export async function runTerminalChat(opts: TerminalChatOptions): Promise<{ turns: number; last?: TurnResult }> {
  const { engine, translator, input, output } = opts;
  const conversationId = opts.conversationId ?? randomUUID();
  const user = { id: opts.userId ?? `terminal-${randomUUID()}` };
  let locale: Locale = opts.locale;
  let last: TurnResult | undefined;
  let turns = 0;
  const write = (text: string) => output.write(`${text}\n`);
  const t = (key: string) => translator.t(locale, key);
  const quitWords = new Set(
    (['en', 'uk'] as const).flatMap((l) => {
      const words = (translator.resources[l].terminal as { quitWords?: unknown } | undefined)?.quitWords;
      return Array.isArray(words) ? words.map((w) => normalise(String(w))) : [];
    }),
  );

  const send = async (inbound: Omit<Inbound, 'channel' | 'conversationId' | 'user' | 'locale'>) => {
    const result = await engine.handle({ channel: TERMINAL_CHANNEL, conversationId, user, locale, ...inbound });
    turns++;
    if (result.duplicate) return;
    last = result;
    locale = result.locale;
    for (const message of result.messages) write(`\n${renderMessage(message, t)}\n`);
  };

  write(t('terminal:intro'));
  await send({ kind: 'greeting' });

  const rl = createInterface({ input, terminal: false, crlfDelay: Infinity });
  opts.signal?.addEventListener('abort', () => rl.close(), { once: true });
  const ask = () => {
    if (opts.prompt) output.write('> ');
  };
  ask();
  for await (const raw of rl) {
    const text = raw.trim();
    if (opts.echo) write(`> ${raw}`);
    if (!text) {
      ask();
      continue;
    }
    if (quitWords.has(normalise(text))) break;
    const shown = last?.messages.at(-1);
    const number = /^\d{1,2}$/.test(text) ? Number(text) : undefined;
    const picked = number !== undefined ? shown?.choices[number - 1] : undefined;
    if (picked) await send({ kind: 'message', choice: { id: picked.id, step: shown?.step } });
    else await send({ kind: 'message', text });
    ask();
  }
  rl.close();
  write(t('terminal:bye'));
  return { turns, last };
}
