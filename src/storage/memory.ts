/** In-process store for unit tests of the engine only; the product runs on SQLite or PostgreSQL. */
import type { Locale } from '../engine/types';
import type { ConversationState, FunnelEvent, Store, TranscriptEntry, TurnCommit, TurnLoad } from './store';

export class MemoryStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly conversations = new Map<string, ConversationState>();
  readonly transcripts = new Map<string, TranscriptEntry[]>();
  readonly processed = new Set<string>();
  readonly userLocales = new Map<string, Locale>();
  readonly funnel: FunnelEvent[] = [];
  private readonly locks = new Map<string, Promise<unknown>>();

  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async runExclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }
  async isProcessed(conversationKey: string, activityKey: string): Promise<boolean> {
    return this.processed.has(mark(conversationKey, activityKey));
  }
  async loadConversation(key: string): Promise<ConversationState | undefined> {
    const c = this.conversations.get(key);
    return c && structuredClone(c);
  }
  async loadTranscript(key: string): Promise<TranscriptEntry[]> {
    return [...(this.transcripts.get(key) ?? [])];
  }
  async getUserLocale(userKey: string): Promise<Locale | undefined> {
    return this.userLocales.get(userKey);
  }
  async loadTurn(input: { conversationKey: string; userKey: string; activityKey?: string }): Promise<TurnLoad> {
    return {
      processed: input.activityKey !== undefined && this.processed.has(mark(input.conversationKey, input.activityKey)),
      conversation: await this.loadConversation(input.conversationKey),
      userLocale: this.userLocales.get(input.userKey),
    };
  }
  async commitTurn(c: TurnCommit): Promise<void> {
    this.conversations.set(c.conversation.key, structuredClone(c.conversation));
    this.transcripts.set(c.conversation.key, [...(this.transcripts.get(c.conversation.key) ?? []), ...c.transcript]);
    if (c.activityKey) this.processed.add(mark(c.conversation.key, c.activityKey));
    if (c.userLocale) this.userLocales.set(c.userLocale.userKey, c.userLocale.locale);
    this.funnel.push(...(c.funnel ?? []));
  }
}

/** A re-delivery mark belongs to its conversation, as in the SQL store's `recent_activities`. */
function mark(conversationKey: string, activityKey: string): string {
  return `${conversationKey}\n${activityKey}`;
}
