/**
 * Reads what the cases part of the report needs from the store's database (SQLite or PostgreSQL):
 * the cases opened in the window with their status updates (src/cases/: `cases`, `case_updates`),
 * and the answers to "is it solved?" from funnel events. No personal data: no record, no note.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { CASE_CLOSURE_STEPS } from '../../dialogs/case-closure/steps';
import type { CaseUpdatesDatabase } from '../cases/updates-repository';
import { toIso, type Database } from '../storage/schema';
import { buildCaseReport, type CaseFacts, type CaseReport, type ClosureAnswers } from './cases-report';

const at = z.union([z.date(), z.string()]).transform(toIso);
const caseRow = z.object({ reference: z.string(), status: z.string(), created_at: at });
const updateRow = z.object({ reference: z.string(), status: z.string(), received_at: at });
const answerRow = z.object({ kind: z.string(), step: z.string(), value: z.string().nullable() });

export async function loadCaseReport(db: Kysely<Database>, window: { from: Date; to: Date }): Promise<CaseReport> {
  const cdb = db.withTables<CaseUpdatesDatabase>();
  const from = window.from.toISOString();
  const to = window.to.toISOString();
  const inWindow = cdb.selectFrom('cases').select('reference').where('created_at', '>=', from).where('created_at', '<', to);
  const [cases, updates, answers] = await Promise.all([
    cdb.selectFrom('cases').select(['reference', 'status', 'created_at']).where('created_at', '>=', from).where('created_at', '<', to).execute(),
    cdb.selectFrom('case_updates').select(['reference', 'status', 'received_at']).where('reference', 'in', inWindow).orderBy('received_at').orderBy('id').execute(),
    db
      .selectFrom('funnel_events')
      .select(['kind', 'step', 'value'])
      .where('kind', 'in', ['answer', 'step_entered'])
      .where('step', 'in', [...CASE_CLOSURE_STEPS])
      .where('at', '>=', from)
      .where('at', '<', to)
      .execute(),
  ]);
  const byReference = new Map<string, CaseFacts>();
  for (const row of cases) {
    const c = caseRow.parse(row);
    byReference.set(c.reference, { createdAt: c.created_at, delivery: c.status, updates: [] });
  }
  for (const row of updates) {
    const u = updateRow.parse(row);
    byReference.get(u.reference)?.updates.push({ status: u.status, at: u.received_at });
  }
  return buildCaseReport([...byReference.values()], closureAnswers(answers.map((a) => answerRow.parse(a))));
}

function closureAnswers(events: z.infer<typeof answerRow>[]): ClosureAnswers {
  const count = (kind: string, step: string, value?: string) => events.filter((e) => e.kind === kind && e.step === step && (value === undefined || e.value === value)).length;
  return {
    asked: count('step_entered', 'closureAsk'),
    solved: count('answer', 'closureAsk', 'worked'),
    notSolved: count('answer', 'closureAsk', 'failed'),
    reopen: count('answer', 'closureOffer', 'reopen'),
    newCase: count('answer', 'closureOffer', 'new_case'),
  };
}
