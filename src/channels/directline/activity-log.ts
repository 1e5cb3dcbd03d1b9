/**
 * The Direct Line side of a web chat conversation: who may read it (a hash of its secret), and the
 * ordered list of activities a browser polls with a watermark. The engine's own conversation state
 * lives in the main Store; this log only holds what the browser is shown.
 *
 * Watermark = the sequence number of the last activity a reader has. Sequence numbers are assigned
 * under the log's own lock, in the order activities become visible, so a reader that asks for
 * "after N" never misses one and never gets one twice.
 *
 * A conversation keeps its latest MAX_LOGGED_ACTIVITIES activities: an append drops older ones. The
 * numbers go on from the highest one ever given, so watermarks stay valid; a reader behind the
 * oldest kept activity gets the history from there (a reload shows the latest part). Dropping rather
 * than refusing keeps a long conversation usable; the bot's own state is not in this log.
 */
import { sha256 } from './access';
import type { DirectLineActivity } from './protocol';

/** Far above a real support conversation (a long one is a few hundred activities); bounds a stuffed one. */
export const MAX_LOGGED_ACTIVITIES = 500;

export interface DirectLineConversation {
  id: string;
  /** sha256 (hex) of the conversation's secret; the secret itself is only ever in the browser. */
  secretHash: string;
  userId: string;
  locale?: string;
  createdAt: string;
  /** When the current secret was issued: its token expires a TTL later. Absent: `createdAt`. */
  secretIssuedAt?: string;
  /** The secret the last refresh replaced, accepted until `previousSecretUntil` (requests in flight). */
  previousSecretHash?: string;
  previousSecretUntil?: string;
  /**
   * Which site token the conversation was started under (`siteKeyOf`); a refresh needs the same one,
   * so changing WEBCHAT_TOKEN ends every conversation when its token expires. Absent: started before
   * this was kept; the next refresh records the current one.
   */
  siteKey?: string;
}

/** A token refresh: the new secret replaces the current one, which stays accepted for a short while. */
export interface SecretRotation {
  /** Applied only while this is still the current secret, so of two refreshes at once one wins. */
  expectedHash: string;
  secretHash: string;
  issuedAt: string;
  previousSecretHash: string;
  previousSecretUntil: string;
  siteKey: string;
}

export interface LoggedActivity {
  seq: number;
  activity: DirectLineActivity;
}

export interface ActivityLog {
  createConversation(conversation: DirectLineConversation): Promise<void>;
  getConversation(id: string): Promise<DirectLineConversation | undefined>;
  /** Replaces the conversation's secret; false when `expectedHash` is no longer current (or no such conversation). */
  rotateSecret(id: string, rotation: SecretRotation): Promise<boolean>;
  /**
   * Appends activities in order; `build` gets each one's sequence number (to name its id) and returns
   * the activity to store. Returns what was stored. Activities beyond the newest MAX_LOGGED_ACTIVITIES
   * are dropped.
   */
  append(conversationId: string, count: number, build: (seq: number, index: number) => DirectLineActivity): Promise<LoggedActivity[]>;
  /** Activities with seq > `after`, oldest first, at most `limit`. */
  since(conversationId: string, after: number, limit: number): Promise<LoggedActivity[]>;
  /** The activity a browser already posted with this clientActivityID (a retried POST), if any. */
  findByClientActivityId(conversationId: string, clientActivityId: string): Promise<LoggedActivity | undefined>;
  /** The latest bot card with this `cardKey`, i.e. the card a press on it replaces, if still kept. */
  findCard(conversationId: string, key: string): Promise<LoggedActivity | undefined>;
}

/**
 * The question a card asks, as its submit buttons carry it (`{ step, prompt }`); a press sends the
 * same pair back, so the pressed card is found by this key instead of by reading the history.
 */
export function cardKey(target: { step?: unknown; prompt?: unknown }): string {
  return sha256(JSON.stringify([target.step ?? null, target.prompt ?? null]));
}

/** The card key of a bot activity with an Adaptive Card that has submit buttons; undefined otherwise. */
export function cardKeyOf(activity: DirectLineActivity): string | undefined {
  if (activity.from?.role !== 'bot') return undefined;
  for (const a of activity.attachments ?? []) {
    if (a.contentType !== 'application/vnd.microsoft.card.adaptive') continue;
    const actions = (a.content as { actions?: unknown } | undefined)?.actions;
    if (!Array.isArray(actions)) continue;
    const submit = actions.find((action: { type?: unknown }) => action?.type === 'Action.Submit') as { data?: { step?: unknown; prompt?: unknown } } | undefined;
    if (submit) return cardKey(submit.data ?? {});
  }
  return undefined;
}

interface MemoryStream {
  /** The next sequence number (numbers are never reused, also after older entries are dropped). */
  next: number;
  entries: LoggedActivity[];
  cards: Map<string, number>;
}

/** In-process log: conversations are kept until the process ends. */
export class MemoryActivityLog implements ActivityLog {
  private readonly conversations = new Map<string, DirectLineConversation>();
  private readonly streams = new Map<string, MemoryStream>();

  private readonly maxActivities: number;

  constructor(maxActivities = MAX_LOGGED_ACTIVITIES) {
    this.maxActivities = Math.max(1, maxActivities);
  }

  async createConversation(conversation: DirectLineConversation): Promise<void> {
    if (this.conversations.has(conversation.id)) throw new Error('conversation id already exists');
    this.conversations.set(conversation.id, { ...conversation });
    this.streams.set(conversation.id, { next: 1, entries: [], cards: new Map() });
  }

  async getConversation(id: string): Promise<DirectLineConversation | undefined> {
    const c = this.conversations.get(id);
    return c && { ...c };
  }

  async rotateSecret(id: string, rotation: SecretRotation): Promise<boolean> {
    const c = this.conversations.get(id);
    if (!c || c.secretHash !== rotation.expectedHash) return false;
    const { expectedHash: _expected, issuedAt, ...rest } = rotation;
    this.conversations.set(id, { ...c, ...rest, secretIssuedAt: issuedAt });
    return true;
  }

  async append(conversationId: string, count: number, build: (seq: number, index: number) => DirectLineActivity): Promise<LoggedActivity[]> {
    const stream = this.streams.get(conversationId);
    if (!stream) throw new Error('unknown conversation');
    // Synchronous from here on: no other append can interleave, so sequence numbers are gap-free.
    const out: LoggedActivity[] = [];
    for (let i = 0; i < count; i += 1) {
      const seq = stream.next;
      stream.next += 1;
      const entry = { seq, activity: structuredClone(build(seq, i)) };
      stream.entries.push(entry);
      const key = cardKeyOf(entry.activity);
      if (key) stream.cards.set(key, seq);
      out.push(entry);
    }
    const excess = stream.entries.length - this.maxActivities;
    if (excess > 0) {
      stream.entries.splice(0, excess);
      const oldest = stream.entries[0]!.seq;
      for (const [key, seq] of stream.cards) if (seq < oldest) stream.cards.delete(key);
    }
    return out.map((e) => structuredClone(e));
  }

  async since(conversationId: string, after: number, limit: number): Promise<LoggedActivity[]> {
    const entries = this.streams.get(conversationId)?.entries ?? [];
    const start = entries.findIndex((e) => e.seq > after);
    return start < 0 ? [] : entries.slice(start, start + limit).map((e) => structuredClone(e));
  }

  async findByClientActivityId(conversationId: string, clientActivityId: string): Promise<LoggedActivity | undefined> {
    const hit = (this.streams.get(conversationId)?.entries ?? []).find(
      (e) => (e.activity.channelData as { clientActivityID?: unknown } | undefined)?.clientActivityID === clientActivityId,
    );
    return hit && structuredClone(hit);
  }

  async findCard(conversationId: string, key: string): Promise<LoggedActivity | undefined> {
    const stream = this.streams.get(conversationId);
    const seq = stream?.cards.get(key);
    const hit = seq === undefined ? undefined : stream!.entries.find((e) => e.seq === seq);
    return hit && structuredClone(hit);
  }
}
