/**
 * Extra writes of a turn, run inside `commitTurn`'s transaction after the conversation, transcript,
 * activity mark, user language and funnel events are written, on both dialects.
 *
 * To add one (e.g. cases and their outbox rows): widen `TurnCommit` in ./store.ts with your field
 * (`cases?: CaseRecord[]`), write `export const writeCases: TurnWriter = { applies, write }` in your
 * repository file in this folder, and append it to the list below. A writer that throws rolls the
 * whole turn back. `applies` must be cheap and exact: on SQLite, turns no writer applies to are
 * group-committed without Kysely (./sqlite-group-commit.ts), and `write` would not be called.
 */
import type { Kysely } from 'kysely';
import type { StoreDialect } from './migrations/index';
import type { Database } from './schema';
import type { TurnCommit } from './store';
import { writeCases } from './cases-repository';
import { markWebexNotificationTurned } from './webex-repository';

export interface TurnWriter {
  /** Whether this turn has anything for the writer to write. */
  applies(commit: TurnCommit): boolean;
  write(trx: Kysely<Database>, commit: TurnCommit, dialect: StoreDialect): Promise<void>;
}

export const turnWriters: TurnWriter[] = [writeCases, markWebexNotificationTurned];
