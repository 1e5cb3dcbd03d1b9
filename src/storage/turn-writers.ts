/**
 * Extra writes of a turn, run inside `commitTurn`'s transaction after the conversation, transcript,
 * processed activity, user language and funnel events are written, on both dialects.
 *
 * To add one (e.g. cases and their outbox rows): widen `TurnCommit` in ./store.ts with your field
 * (`cases?: CaseRecord[]`), write `export const writeCases: TurnWriter = async (trx, commit) => {…}`
 * in your repository file in this folder, and append it to the list below. A writer that throws
 * rolls the whole turn back.
 */
import type { Kysely } from 'kysely';
import type { StoreDialect } from './migrations/index';
import type { Database } from './schema';
import type { TurnCommit } from './store';
import { writeCases } from './cases-repository';
import { markWebexNotificationTurned } from './webex-repository';

export type TurnWriter = (trx: Kysely<Database>, commit: TurnCommit, dialect: StoreDialect) => Promise<void>;

export const turnWriters: TurnWriter[] = [writeCases, markWebexNotificationTurned];
