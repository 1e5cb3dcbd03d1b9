/**
 * Hand-offs (migration 0017-handoffs). A request is written with the person's turn
 * (`TurnCommit.handoff`, by the turn writer this repository registers), as are the person's own
 * moves (a message relayed, the chat ended, the request withdrawn). An engineer's moves (take it,
 * write, end) and the wait running out are transactions of their own. Every status change is a
 * conditional UPDATE from the status it leaves, so of two racing moves (two engineers pressing
 * "Take it", on two instances) exactly one changes the row, and only that one writes the jobs that
 * follow from it (./jobs-repository.ts) in the same transaction.
 */
import type { Kysely, Updateable } from 'kysely';
import { z } from 'zod';
import { attachmentRef, type AttachmentRef } from '../../dialogs/flow';
import { caseIntakeInput, type CaseIntakeInput } from '../../dialogs/support-case/case-draft';
import { fromJson, indexedFunnelKind, toIso, type Database, type Json, type Timestamp } from '../storage/schema';
import type { Store } from '../storage/store';
import type { TransactionTurnWriter } from '../storage/turn-writers';
import { addJobs, type HandoffJobsDatabase, type NewJob } from './jobs-repository';

export type HandoffStatus = 'waiting' | 'taken' | 'ended' | 'expired' | 'cancelled';

/** Where the request was posted in each expert space, and the thread the chat is held in. */
export const cards = z.object({
  webex: z.object({ messageId: z.string(), threadId: z.string().optional() }).optional(),
  teams: z.object({ activityId: z.string(), conversationId: z.string() }).optional(),
});
export type Cards = z.infer<typeof cards>;

export interface HandoffRecord {
  id: string;
  conversationKey: string;
  status: HandoffStatus;
  channel: string;
  locale: 'en' | 'uk';
  caseInput: CaseIntakeInput;
  requestedAt: string;
  waitUntil: string;
  cards: Cards;
  /** `${space}:${id}` of the engineer who took it, their name as their space shows it, and the space. */
  takenBy?: string;
  takenByName?: string;
  takenIn?: string;
  takenAt?: string;
  endedAt?: string;
  endedBy?: 'person' | 'expert';
}

export interface NewHandoff {
  id: string;
  conversationKey: string;
  channel: string;
  locale: 'en' | 'uk';
  caseInput: CaseIntakeInput;
  requestedAt: string;
  waitUntil: string;
}

/** What the person's turn changes. */
export interface HandoffTurnChanges {
  create?: NewHandoff;
  /** The person ended the chat, or withdrew the request while it waited. */
  end?: { id: string; at: string };
  cancel?: { id: string; at: string };
  /** Their message (and files) for the engineer; `id` is the activity's, so a repeat is kept once. */
  relay?: { id: string; handoffId: string; text: string; files: AttachmentRef[]; at: string }[];
}

declare module '../storage/turn-commit' {
  interface TurnCommit {
    /** Hand-off changes of this turn (written by `writeHandoffChanges`). */
    handoff?: HandoffTurnChanges;
  }
}

export interface HandoffsTable {
  id: string;
  conversation_key: string;
  status: string;
  channel: string;
  locale: string;
  case_input: Json;
  requested_at: Timestamp;
  wait_until: Timestamp;
  cards: Json;
  taken_by: string | null;
  taken_by_name: string | null;
  taken_in: string | null;
  taken_at: Timestamp | null;
  ended_at: Timestamp | null;
  ended_by: string | null;
}

export type HandoffsDatabase = { handoffs: HandoffsTable } & HandoffJobsDatabase;
type Db = Kysely<Database & HandoffsDatabase>;

const time = z.union([z.date(), z.string()]).transform(toIso);
const row = z.object({
  id: z.string(),
  conversation_key: z.string(),
  status: z.enum(['waiting', 'taken', 'ended', 'expired', 'cancelled']),
  channel: z.string(),
  locale: z.enum(['en', 'uk']),
  case_input: z.unknown(),
  requested_at: time,
  wait_until: time,
  cards: z.unknown(),
  taken_by: z.string().nullable(),
  taken_by_name: z.string().nullable(),
  taken_in: z.string().nullable(),
  taken_at: time.nullable(),
  ended_at: time.nullable(),
  ended_by: z.enum(['person', 'expert']).nullable(),
});

function toRecord(r: unknown): HandoffRecord {
  const h = row.parse(r);
  const optional = <K extends string, V>(key: K, value: V | null) => (value === null ? {} : ({ [key]: value } as Record<K, V>));
  return {
    id: h.id,
    conversationKey: h.conversation_key,
    status: h.status,
    channel: h.channel,
    locale: h.locale,
    caseInput: caseIntakeInput.parse(fromJson(h.case_input)),
    requestedAt: h.requested_at,
    waitUntil: h.wait_until,
    cards: cards.parse(fromJson(h.cards)),
    ...optional('takenBy', h.taken_by),
    ...optional('takenByName', h.taken_by_name),
    ...optional('takenIn', h.taken_in),
    ...optional('takenAt', h.taken_at),
    ...optional('endedAt', h.ended_at),
    ...optional('endedBy', h.ended_by),
  };
}

/** Moves one hand-off from `from` to a new status; true when this call moved it (nobody else did first). */
async function move(db: Db, id: string, from: HandoffStatus, set: Updateable<HandoffsTable>): Promise<boolean> {
  const r = await db.updateTable('handoffs').set(set).where('id', '=', id).where('status', '=', from).executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

const files = z.array(attachmentRef);

/** The turn writer for `TurnCommit.handoff`, registered by every `HandoffRepository`. */
export const writeHandoffChanges: TransactionTurnWriter = {
  name: 'handoffs',
  mode: 'transaction',
  field: 'handoff',
  applies: (commit) => commit.handoff !== undefined,
  async write(trx, commit) {
    const changes = commit.handoff;
    if (!changes) return;
    const db = trx.withTables<HandoffsDatabase>();
    const jobs: NewJob[] = [];
    const { create, end, cancel } = changes;
    if (create) {
      await db
        .insertInto('handoffs')
        .values({
          id: create.id,
          conversation_key: create.conversationKey,
          status: 'waiting',
          channel: create.channel,
          locale: create.locale,
          case_input: JSON.stringify(create.caseInput),
          requested_at: create.requestedAt,
          wait_until: create.waitUntil,
          cards: '{}',
        })
        .execute();
      jobs.push({ id: `${create.id}:post`, handoffId: create.id, kind: 'post_request', payload: {}, at: create.requestedAt });
    }
    if (end && (await move(db, end.id, 'taken', { status: 'ended', ended_at: end.at, ended_by: 'person' }))) {
      jobs.push({ id: `${end.id}:ended`, handoffId: end.id, kind: 'update_cards', payload: { state: 'ended', by: 'person' }, at: end.at });
    }
    if (cancel && (await move(db, cancel.id, 'waiting', { status: 'cancelled', ended_at: cancel.at, ended_by: 'person' }))) {
      jobs.push({ id: `${cancel.id}:cancelled`, handoffId: cancel.id, kind: 'update_cards', payload: { state: 'cancelled' }, at: cancel.at });
    }
    for (const r of changes.relay ?? []) {
      jobs.push({ id: `relay:${r.id}`, handoffId: r.handoffId, kind: 'relay_to_expert', payload: { text: r.text, files: files.parse(r.files) }, at: r.at });
    }
    await addJobs(db, jobs);
  },
};

export class HandoffRepository {
  /** Registers `writeHandoffChanges` with the store: from now on its turns may carry hand-off changes. */
  constructor(private readonly store: Pick<Store, 'kind' | 'db' | 'registerTurnWriter'>) {
    store.registerTurnWriter(writeHandoffChanges);
  }

  get db(): Db {
    return this.store.db.withTables<HandoffsDatabase>();
  }

  async find(id: string): Promise<HandoffRecord | undefined> {
    const r = await this.db.selectFrom('handoffs').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toRecord(r) : undefined;
  }

  /** The conversation's hand-off that is waiting or under way, if any (the newest). */
  async activeFor(conversationKey: string): Promise<HandoffRecord | undefined> {
    const r = await this.db
      .selectFrom('handoffs')
      .selectAll()
      .where('conversation_key', '=', conversationKey)
      .where('status', 'in', ['waiting', 'taken'])
      .orderBy('requested_at', 'desc')
      .executeTakeFirst();
    return r ? toRecord(r) : undefined;
  }

  /** The hand-off whose chat is held in the Webex thread `threadId`. */
  async byWebexThread(threadId: string): Promise<HandoffRecord | undefined> {
    // The thread id is inside the cards JSON; hand-offs under way are few, so they are read and matched here.
    const live = await this.db.selectFrom('handoffs').selectAll().where('status', 'in', ['taken', 'ended']).where('taken_in', '=', 'webex').orderBy('taken_at', 'desc').limit(500).execute();
    return live.map(toRecord).find((h) => h.cards.webex?.threadId === threadId);
  }

  /** The hand-off whose request (or chat) is the Teams message `activityId`. */
  async byTeamsActivity(activityId: string): Promise<HandoffRecord | undefined> {
    const recent = await this.db.selectFrom('handoffs').selectAll().where('status', '<>', 'cancelled').orderBy('requested_at', 'desc').limit(500).execute();
    return recent.map(toRecord).find((h) => h.cards.teams?.activityId === activityId);
  }

  /** Records where the request was posted in one space (only the worker of its post job writes this). */
  async recordCard(id: string, space: keyof Cards, card: NonNullable<Cards[keyof Cards]>): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const current = await trx.selectFrom('handoffs').select('cards').where('id', '=', id).executeTakeFirst();
      if (!current) return;
      const next = { ...cards.parse(fromJson(current.cards)), [space]: card };
      await trx.updateTable('handoffs').set({ cards: JSON.stringify(next) }).where('id', '=', id).execute();
    });
  }

  /** The first engineer to call this for a waiting request takes it: true for them only. */
  async take(id: string, by: { key: string; name: string; space: string }, at: Date): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const now = at.toISOString();
      const taken = await move(trx, id, 'waiting', { status: 'taken', taken_by: by.key, taken_by_name: by.name, taken_in: by.space, taken_at: now });
      if (taken) {
        await addJobs(trx, [
          { id: `${id}:taken`, handoffId: id, kind: 'update_cards', payload: { state: 'taken' }, at: now },
          { id: `${id}:tell-taken`, handoffId: id, kind: 'tell_taken', payload: {}, at: now },
        ]);
      }
      return taken;
    });
  }

  /** The engineer ended the chat: true when this call ended it. */
  async endByExpert(id: string, at: Date): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const now = at.toISOString();
      const ended = await move(trx, id, 'taken', { status: 'ended', ended_at: now, ended_by: 'expert' });
      if (ended) {
        await addJobs(trx, [
          { id: `${id}:ended`, handoffId: id, kind: 'update_cards', payload: { state: 'ended', by: 'expert' }, at: now },
          { id: `${id}:tell-ended`, handoffId: id, kind: 'tell_ended', payload: {}, at: now },
        ]);
      }
      return ended;
    });
  }

  /**
   * The engineer's words for the person, kept once per message (`messageId`), and put into the
   * conversation's transcript in the same transaction (they are part of the conversation).
   */
  async relayToPerson(h: HandoffRecord, messageId: string, message: { text: string; name: string; transcript: string }, at: Date): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const now = at.toISOString();
      const added = await addJobs(trx, [{ id: `relay:${messageId}`, handoffId: h.id, kind: 'relay_to_person', payload: { text: message.text, name: message.name }, at: now }]);
      if (added) await trx.insertInto('transcript_entries').values({ conversation_key: h.conversationKey, at: now, sender: 'bot', text: message.transcript }).execute();
      return added > 0;
    });
  }

  /** Expires waiting requests whose wait ran out (each once, whatever instance gets there first). */
  async expireDue(now: Date, limit = 20): Promise<HandoffRecord[]> {
    const due = await this.db
      .selectFrom('handoffs')
      .selectAll()
      .where('status', '=', 'waiting')
      .where('wait_until', '<=', now.toISOString())
      .orderBy('wait_until')
      .limit(limit)
      .execute();
    const expired: HandoffRecord[] = [];
    for (const h of due.map(toRecord)) {
      const moved = await this.db.transaction().execute(async (trx) => {
        const at = now.toISOString();
        if (!(await move(trx, h.id, 'waiting', { status: 'expired', ended_at: at }))) return false;
        await addJobs(trx, [
          { id: `${h.id}:expired`, handoffId: h.id, kind: 'update_cards', payload: { state: 'expired' }, at },
          { id: `${h.id}:tell-expired`, handoffId: h.id, kind: 'tell_expired', payload: {}, at },
        ]);
        return true;
      });
      if (moved) expired.push({ ...h, status: 'expired' });
    }
    return expired;
  }

  /** Chats after which the person said the problem was solved (the funnel's `resolved_by_person` outcomes). */
  async countResolved(): Promise<number> {
    const r = await this.db
      .selectFrom('funnel_events')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('kind', '=', indexedFunnelKind('outcome'))
      .where('value', '=', 'resolved_by_person')
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Counts for /metrics and the funnel report: see `handoffStats`. */
  stats(since: Date, until?: Date): Promise<HandoffStats> {
    return handoffStats(this.store.db, since, until);
  }
}

export interface HandoffStats {
  byStatus: Record<HandoffStatus, number>;
  /** Seconds from the request to an engineer taking it, for those taken. */
  waitsSeconds: number[];
}

/** Requests made since `since` (and before `until`) by status, and the waits of those taken; for the report too, which has only the database. */
export async function handoffStats(db: Kysely<Database>, since: Date, until?: Date): Promise<HandoffStats> {
  let query = db.withTables<HandoffsDatabase>().selectFrom('handoffs').select(['status', 'requested_at', 'taken_at']).where('requested_at', '>=', since.toISOString());
  if (until) query = query.where('requested_at', '<', until.toISOString());
  const rows = await query.execute();
  const byStatus: Record<HandoffStatus, number> = { waiting: 0, taken: 0, ended: 0, expired: 0, cancelled: 0 };
  const waitsSeconds: number[] = [];
  for (const r of rows) {
    byStatus[r.status as HandoffStatus] += 1;
    if (r.taken_at) waitsSeconds.push((Date.parse(toIso(r.taken_at)) - Date.parse(toIso(r.requested_at))) / 1000);
  }
  return { byStatus, waitsSeconds };
}
