/** Funnel events for the report tests, and one stored turn that carries them. */
import type { SqlStore } from '../../src/storage/index';
import type { FunnelEvent } from '../../src/storage/store';

export const funnelEvent = (conversationKey: string, at: string, kind: FunnelEvent['kind'], step: string, value?: string, over: Partial<FunnelEvent> = {}): FunnelEvent => ({
  at,
  conversationKey,
  channel: 'msteams',
  locale: 'en',
  mode: 'self',
  kind,
  step,
  ...(value ? { value } : {}),
  ...over,
});

/** Stores `funnel` as one turn of a conversation of its own, at `at`. */
export async function storeFunnelEvents(store: SqlStore, funnel: FunnelEvent[], at: string): Promise<void> {
  await store.commitTurn({
    conversation: { key: 'test:funnel', channel: 'test', flowId: 'x', flowVersion: 1, snapshot: null, locale: 'en', parents: [], turn: 1, userId: 'u', createdAt: at, updatedAt: at },
    transcript: [],
    funnel,
  });
}
