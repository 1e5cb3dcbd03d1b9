/**
 * What a person typed, as the flow should read it: without the mention of the bot that a group space
 * requires, and with a language hint, since Webex says nothing about the person's language.
 */
import type { WebexMessage, WebexPerson } from './api';
import { sameId } from './people';

const CYRILLIC = /\p{Script=Cyrillic}/u;

/** Cyrillic means Ukrainian; otherwise no hint, so the conversation keeps its language. */
export function localeHint(text: string | undefined): string | undefined {
  return text && CYRILLIC.test(text) ? 'uk' : undefined;
}

/**
 * Removes the mention of the bot from a message. Webex puts the mentioned name into `text`; `html`
 * marks it as `<spark-mention data-object-id="…">Name</spark-mention>`, which tells us exactly what
 * to remove. Without html, a group message that starts with the bot's name loses that name.
 */
export function stripBotMention(msg: Pick<WebexMessage, 'text' | 'html' | 'roomType'>, bot: WebexPerson): string {
  let text = msg.text ?? '';
  let stripped = false;
  for (const m of (msg.html ?? '').matchAll(/<spark-mention\b([^>]*)>([\s\S]*?)<\/spark-mention>/g)) {
    const id = /data-object-id="([^"]+)"/.exec(m[1] ?? '')?.[1];
    const name = decodeEntities((m[2] ?? '').replace(/<[^>]+>/g, ''));
    if (!id || !name || !sameId(id, bot.id)) continue;
    const at = text.indexOf(name);
    if (at >= 0) {
      text = text.slice(0, at) + text.slice(at + name.length);
      stripped = true;
    }
  }
  if (!stripped && msg.roomType === 'group') {
    const names = [bot.displayName, bot.nickName, bot.displayName?.split(/\s+/)[0]].filter((s): s is string => !!s);
    const name = names.find((n) => text.toLowerCase().startsWith(n.toLowerCase()));
    if (name) text = text.slice(name.length);
  }
  return text.replace(/^[\s,:;]+/, '').trim();
}

function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
