/**
 * ServiceNow read back after delivery, against a loopback Table API (test/support/fake-servicenow.ts):
 * the record's state becomes our status, customer-visible comments become the engineer's notes
 * (never work notes, never the bot's own comments), each change is stored once however many
 * pollers read it, a closed case is no longer read, and a malformed answer is skipped. Additions go
 * as a comment, once.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createServiceNowBackend } from '../../src/cases/backends/index';
import type { CaseBackend } from '../../src/cases/backends/types';
import { CaseRepository } from '../../src/cases/repository';
import { CaseUpdatesPoller } from '../../src/cases/updates-poller';
import { CaseUpdatesRepository } from '../../src/cases/updates-repository';
import type { SqlStore } from '../../src/storage/index';
import { fixtureTranslator } from '../dialogs/support-case/fixture-entry';
import { postgresHarness } from '../storage/harness';
import { captureLogs, silentLogger } from '../support';
import { FakeServiceNow, startFakeServiceNow } from '../support/fake-servicenow';
import { useCaseOutboxes } from './backends/harness';
import { CREATED_AT, seedCase } from './helpers';

const cases = useCaseOutboxes(fixtureTranslator());
let sn: FakeServiceNow;

beforeEach(async () => {
  sn = await startFakeServiceNow();
  cases.closeAfter(() => sn.stop());
});

const backend = (fake = sn): CaseBackend =>
  createServiceNowBackend({ instanceUrl: fake.url, table: fake.table, username: fake.username, password: fake.password });

function poller(store: SqlStore = cases.store, logger = silentLogger, fake = sn) {
  const updates = new CaseUpdatesRepository(store);
  return { updates, poller: new CaseUpdatesPoller({ backend: backend(fake), updates, logger, pollMs: 300_000, clock: () => new Date('2026-11-26T09:00:00.000Z') }) };
}

/** A case delivered to the fake through the real outbox (the record exists, state New). */
async function delivered(store: SqlStore = cases.store, fake = sn) {
  const s = await seedCase(store, { delivery: { backend: 'servicenow', status: 'pending', attempts: 0, nextAttemptAt: CREATED_AT } });
  if (store === cases.store) expect((await cases.outbox(backend(fake)).runOnce()).delivered).toBe(1);
  return s.reference;
}

const told = async (updates: CaseUpdatesRepository, reference: string) =>
  (await updates.history(reference)).map(({ backend, status, ticketId, message }) => ({ backend, status, ticketId, ...(message ? { message } : {}) }));

describe('updates read back from ServiceNow', () => {
  it('tells a change of state once, and nothing for a new record that has not moved', async () => {
    const reference = await delivered();
    const { poller: p, updates } = poller();
    expect(await p.runOnce()).toMatchObject({ stored: 0 });
    sn.setState(reference, '10');
    expect(await p.runOnce()).toMatchObject({ stored: 1 });
    expect(await p.runOnce()).toMatchObject({ stored: 0, repeat: 0 });
    expect(await told(updates, reference)).toEqual([{ backend: 'servicenow', status: 'in_progress', ticketId: 'CS001001' }]);
  });

  it('tells customer-visible comments as the engineer notes, never work notes or the bot own comments', async () => {
    const reference = await delivered();
    const { poller: p, updates } = poller();
    sn.setState(reference, '18');
    sn.addJournal(reference, 'work_notes', 'Internal: customer seems confused, check CCW.');
    sn.addJournal(reference, 'comments', 'Please send a screenshot of the order line.');
    sn.addJournal(reference, 'comments', 'Added by the customer in the chat (addition x): here it is', sn.username);
    expect(await p.runOnce()).toMatchObject({ stored: 1 });
    expect(await told(updates, reference)).toEqual([{ backend: 'servicenow', status: 'waiting_for_customer', ticketId: 'CS001001', message: 'Please send a screenshot of the order line.' }]);
    expect(sn.requests.filter((r) => r.path.endsWith('/sys_journal_field')).every((r) => r.query.startsWith('element=comments^'))).toBe(true);
  });

  it('tells a case that goes back and forth each time, and the resolution notes with "resolved"', async () => {
    const reference = await delivered();
    const { poller: p, updates } = poller();
    for (const state of ['10', '18', '10', '18']) {
      sn.setState(reference, state);
      await p.runOnce();
    }
    sn.setState(reference, '6', { close_notes: 'Provisioning contact changed in CCW.' });
    await p.runOnce();
    expect((await told(updates, reference)).map((u) => u.status)).toEqual(['in_progress', 'waiting_for_customer', 'in_progress', 'waiting_for_customer', 'resolved']);
    expect((await told(updates, reference)).at(-1)!.message).toBe('Provisioning contact changed in CCW.');
  });

  it('stores a change two pollers read at once only once', async () => {
    const reference = await delivered();
    const a = poller();
    const b = poller();
    sn.setState(reference, '10');
    sn.addJournal(reference, 'comments', 'Looking into it.');
    const [ra, rb] = await Promise.all([a.poller.runOnce(), b.poller.runOnce()]);
    expect(ra.stored + rb.stored).toBe(1);
    expect(await a.updates.history(reference)).toHaveLength(1);
  });

  it('stops reading a case once it is closed', async () => {
    const reference = await delivered();
    const { poller: p } = poller();
    sn.setState(reference, '3');
    expect(await p.runOnce()).toMatchObject({ stored: 1 });
    const asked = sn.requests.length;
    sn.setState(reference, '10');
    expect(await p.runOnce()).toMatchObject({ stored: 0 });
    expect(sn.requests.length).toBe(asked);
  });

  it('maps an incident on hold by its reason: awaiting the caller is waiting for the customer', async () => {
    const incidents = await startFakeServiceNow('incident');
    cases.closeAfter(() => incidents.stop());
    const s = await seedCase(cases.store, { delivery: { backend: 'servicenow', status: 'pending', attempts: 0, nextAttemptAt: CREATED_AT } });
    expect((await cases.outbox(backend(incidents)).runOnce()).delivered).toBe(1);
    const { poller: p, updates } = poller(cases.store, silentLogger, incidents);
    incidents.setState(s.reference, '3', { hold_reason: '1' });
    await p.runOnce();
    incidents.setState(s.reference, '3', { hold_reason: '4' });
    await p.runOnce();
    incidents.setState(s.reference, '7');
    await p.runOnce();
    expect((await told(updates, s.reference)).map((u) => u.status)).toEqual(['waiting_for_customer', 'in_progress', 'closed']);
  });

  it('skips a malformed answer, logging no content, stores nothing, and reads normally next time', async () => {
    const reference = await delivered();
    const logs = captureLogs();
    const { poller: p, updates } = poller(cases.store, logs.logger);
    sn.setState(reference, '10');
    sn.answerOnce(sn.table, { result: [{ sys_id: 'x', state: { private: 'oksana@partner.example' } }] });
    expect(await p.runOnce()).toMatchObject({ stored: 0, skipped: 1 });
    expect(await updates.history(reference)).toEqual([]);
    expect(logs.lines.find((l) => l.msg === 'an answer of the support system was skipped')!.reason).toBe(
      "ServiceNow's case records answered in an unexpected shape (check result.0.state, result.0.correlation_id)",
    );
    expect(logs.text()).not.toContain('oksana@partner.example');
    expect(await p.runOnce()).toMatchObject({ stored: 1 });
  });

  it('adds an addition as a customer-visible comment, once, and does not tell it back', async () => {
    const reference = await delivered();
    const record = (await new CaseRepository(cases.store).findByReference(reference))!;
    const addition = { additionId: 'add-1', reference, text: 'The order was placed on 3 May.', attachments: [], case: record };
    await backend().addToCase!(addition);
    await backend().addToCase!(addition);
    expect(sn.comments(reference).map((c) => [c.value, c.sys_created_by])).toEqual([
      ['Added by the customer in the chat (addition add-1):\nThe order was placed on 3 May.', sn.username],
    ]);
    const { poller: p } = poller();
    expect(await p.runOnce()).toMatchObject({ stored: 0 });
  });
});

describe('updates read back from ServiceNow by two instances on PostgreSQL', () => {
  const pg = postgresHarness();
  afterAll(() => pg.cleanup());

  it('stores each change once, whichever instance reads it first', async () => {
    const [one, two] = [await pg.open(), await pg.open()];
    new CaseRepository(one);
    const s = await seedCase(one, { delivery: { backend: 'servicenow', status: 'pending', attempts: 0, nextAttemptAt: CREATED_AT } });
    await backend().deliver({ case: s, summary: 's' });
    await one.db.updateTable('cases' as never).set({ status: 'delivered', external_id: 'CS001001', delivered_at: CREATED_AT } as never).execute();
    const a = poller(one);
    const b = poller(two);
    for (const state of ['10', '18']) {
      sn.setState(s.reference, state);
      sn.addJournal(s.reference, 'comments', `note for ${state}`);
      await Promise.all([a.poller.runOnce(), b.poller.runOnce(), a.poller.runOnce()]);
    }
    sn.setState(s.reference, '6');
    await Promise.all([a.poller.runOnce(), b.poller.runOnce()]);
    expect((await told(a.updates, s.reference)).map((u) => [u.status, u.message ?? ''])).toEqual([
      ['in_progress', 'note for 10'],
      ['waiting_for_customer', 'note for 18'],
      ['resolved', ''],
    ]);
  });
});
