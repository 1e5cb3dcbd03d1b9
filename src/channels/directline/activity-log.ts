/**
 * The Direct Line side of a web chat conversation: who may read it (a hash of its secret), and the
 * ordered list of activities a browser polls with a watermark. The engine's own conversation state
 * lives in the main Store; this log only holds what the browser is shown.
 *
 * Watermark = the sequence number of the last activity a reader has. Sequence numbers are assigned
 * under the log's own lock, in the order activities become visible, so a reader that asks for
 * "after N" never misses one and never gets one twice.
 */
import type { DirectLineActivity } from './protocol';

export interface DirectLineConversation {
  id: string;
  /** sha256 (hex) of the conversation's secret; the secret itself is only ever in the browser. */
  secretHash: string;
  userId: string;
  locale?: string;
  createdAt: string;
}

export interface LoggedActivity {
  seq: number;
  activity: DirectLineActivity;
}

export interface ActivityLog {
  createConversation(conversation: DirectLineConversation): Promise<void>;
  getConversation(id: string): Promise<DirectLineConversation | undefined>;
  /**
   * Appends activities in order; `build` gets each one's sequence number (to name its id) and returns
   * the activity to store. Returns what was stored.
   */
  append(conversationId: string, count: number, build: (seq: number, index: number) => DirectLineActivity): Promise<LoggedActivity[]>;
  /** Activities with seq > `after`, oldest first, at most `limit`. */
  since(conversationId: string, after: number, limit: number): Promise<LoggedActivity[]>;
  /** The activity a browser already posted with this clientActivityID (a retried POST), if any. */
  findByClientActivityId(conversationId: string, clientActivityId: string): Promise<LoggedActivity | undefined>;
}

/** In-process log: conversations are kept until the process ends. */
export class MemoryActivityLog implements ActivityLog {
  private readonly conversations = new Map<string, DirectLineConversation>();
  private readonly activities = new Map<string, LoggedActivity[]>();

  async createConversation(conversation: DirectLineConversation): Promise<void> {
    if (this.conversations.has(conversation.id)) throw new Error('conversation id already exists');
    this.conversations.set(conversation.id, { ...conversation });
    this.activities.set(conversation.id, []);
  }

  async getConversation(id: string): Promise<DirectLineConversation | undefined> {
    const c = this.conversations.get(id);
    return c && { ...c };
  }

  async append(conversationId: string, count: number, build: (seq: number, index: number) => DirectLineActivity): Promise<LoggedActivity[]> {
    const list = this.activities.get(conversationId);
    if (!list) throw new Error('unknown conversation');
    // Synchronous from here on: no other append can interleave, so sequence numbers are gap-free.
    const out: LoggedActivity[] = [];
    for (let i = 0; i < count; i += 1) {
      const seq = list.length + 1;
      const entry = { seq, activity: structuredClone(build(seq, i)) };
      list.push(entry);
      out.push(entry);
    }
    return out.map((e) => structuredClone(e));
  }

  async since(conversationId: string, after: number, limit: number): Promise<LoggedActivity[]> {
    const list = this.activities.get(conversationId) ?? [];
    return list.slice(Math.max(0, after), Math.max(0, after) + limit).map((e) => structuredClone(e));
  }

  async findByClientActivityId(conversationId: string, clientActivityId: string): Promise<LoggedActivity | undefined> {
    const hit = (this.activities.get(conversationId) ?? []).find(
      (e) => (e.activity.channelData as { clientActivityID?: unknown } | undefined)?.clientActivityID === clientActivityId,
    );
    return hit && structuredClone(hit);
  }
}
