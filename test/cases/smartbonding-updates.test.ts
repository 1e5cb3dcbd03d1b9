/**
 * What Cisco says back through Smart Bonding's pull queue, read by the updates poller: each message
 * becomes one stored update (Cisco case number, status, the engineer's notes and solution), a
 * message handed out twice is stored once, and what cannot be used (a malformed answer, a message
 * Smart Bonding rejected, an unknown reference) is logged without its content and skipped while
 * the poller goes on.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createSmartBondingBackend } from '../../src/cases/backends/index';
import { statusOf } from '../../src/cases/backends/smartbonding-calls';
import { CaseUpdatesPoller } from '../../src/cases/updates-poller';
import { CaseUpdatesRepository } from '../../src/cases/updates-repository';
import { fixtureTranslator } from '../dialogs/support-case/fixture-entry';
import { captureLogs, type CapturedLogs } from '../support';
import { FakeSmartBonding, startFakeSmartBonding } from '../support/fake-smartbonding';
import { useCaseOutboxes } from './backends/harness';
import { seedCase } from './helpers';

const cases = useCaseOutboxes(fixtureTranslator());
let sb: FakeSmartBonding;
let logs: CapturedLogs;
let stored: number;

beforeEach(async () => {
  sb = await startFakeSmartBonding();
  cases.closeAfter(() => sb.stop());
  logs = captureLogs('info');
  stored = 0;
});

function poller(): { poller: CaseUpdatesPoller; updates: CaseUpdatesRepository } {
  const updates = new CaseUpdatesRepository(cases.store);
  const backend = createSmartBondingBackend({ apiUrl: sb.apiUrl, tokenUrl: sb.tokenUrl, clientId: sb.clientId, clientSecret: sb.clientSecret });
  const p = new CaseUpdatesPoller({ backend, updates, logger: logs.logger, pollMs: 60_000, clock: () => new Date('2026-11-26T09:00:00.000Z'), onStored: () => void stored++ });
  return { poller: p, updates };
}

const delivered = () => seedCase(cases.store, { delivery: { backend: 'smartbonding', status: 'delivered', attempts: 1, deliveredAt: '2026-11-25T10:01:00.000Z' } });

describe('updates pulled from Smart Bonding', () => {
  it('stores each message as an update of the case: Cisco case number, status, the engineer notes and the solution', async () => {
    const record = await delivered();
    sb.tacUpdate(record.reference, { state: 'Update', spCallId: '694812345', remarks: 'TAC engineer assigned.' });
    sb.tacUpdate(record.reference, { state: 'Pending Customer', spCallId: '694812345', remarks: 'Please send a screenshot of the order line.' });
    sb.tacUpdate(record.reference, { state: 'Resolved', spCallId: '694812345', remarks: 'Contact changed.', solution: 'Provisioning contact updated in CCW.' });
    const { poller: p, updates } = poller();

    expect(await p.runOnce()).toEqual({ stored: 3, repeat: 0, unknown: 0, skipped: 0, failed: false });
    expect(stored).toBe(3);
    const history = await updates.history(record.reference);
    expect(history.map(({ backend, status, ticketId, message }) => ({ backend, status, ticketId, message }))).toEqual([
      { backend: 'smartbonding', status: 'in_progress', ticketId: '694812345', message: 'TAC engineer assigned.' },
      { backend: 'smartbonding', status: 'waiting_for_customer', ticketId: '694812345', message: 'Please send a screenshot of the order line.' },
      { backend: 'smartbonding', status: 'resolved', ticketId: '694812345', message: 'Contact changed.\n\nProvisioning contact updated in CCW.' },
    ]);
    expect(sb.waitingCount).toBe(0);
    // The notes are personal data: the log has the reference and the status, not the words.
    expect(logs.text()).toContain(record.reference);
    expect(logs.text()).not.toContain('screenshot of the order line');
  });

  it('stores a message handed out a second time once, and the next pass asks again', async () => {
    const record = await delivered();
    const message = JSON.stringify({ Calls: { CustCallID: record.reference, SDCallID: 'SD1', SPCallID: '694812345', Remarks: 'Working on it.' }, CallStates: { ShortName: 'Update' } });
    sb.queueRaw(message);
    sb.queueRaw(JSON.stringify(JSON.parse(message), null, 2));
    const { poller: p, updates } = poller();
    expect(await p.runOnce()).toMatchObject({ stored: 1, repeat: 1 });
    expect(await updates.history(record.reference)).toHaveLength(1);
    sb.queueRaw(message);
    expect(await p.runOnce()).toMatchObject({ stored: 0, repeat: 1 });
    expect(stored).toBe(1);
  });

  it('skips a malformed answer, logging what was wrong but not what it held, and goes on with the next messages', async () => {
    const record = await delivered();
    sb.queueRaw(JSON.stringify({ Calls: { CustCallID: 42, Remarks: 'private note oksana@partner.example' } }));
    sb.queueRaw(JSON.stringify({ Calls: 'a string', CallStates: { ShortName: 'Update' } }));
    sb.tacUpdate(record.reference, { state: 'Update', remarks: 'Still here.' });
    const { poller: p, updates } = poller();
    expect(await p.runOnce()).toMatchObject({ stored: 1, skipped: 2, failed: false });
    expect((await updates.history(record.reference)).map((u) => u.message)).toEqual(['Still here.']);
    const skipped = logs.lines.filter((l) => l.msg === 'an answer of the support system was skipped');
    expect(skipped.map((l) => l.reason)).toEqual([
      'the pull answer is not a Calls message (check Calls.CustCallID)',
      'the pull answer is not a Calls message (check Calls)',
    ]);
    expect(logs.text()).not.toContain('oksana@partner.example');
    expect(logs.text()).not.toContain('private note');
  });

  it('stops the pass at an answer that is not JSON, stores nothing for it, and takes the rest at the next pass', async () => {
    const record = await delivered();
    sb.queueRaw('<html>Service Unavailable</html>');
    sb.tacUpdate(record.reference, { state: 'Update', remarks: 'Next one.' });
    const { poller: p, updates } = poller();
    expect(await p.runOnce()).toMatchObject({ stored: 0, skipped: 1 });
    expect(await updates.history(record.reference)).toEqual([]);
    expect(await p.runOnce()).toMatchObject({ stored: 1, skipped: 0 });
  });

  it('drops an update for a reference we do not know, and one Smart Bonding rejected, telling nobody', async () => {
    const record = await delivered();
    sb.tacUpdate('PCE-999999', { state: 'Update', remarks: 'Not ours.' });
    sb.tacUpdate('SOMEONE-ELSES-1', { state: 'Update', remarks: 'Not ours either.' });
    sb.tacUpdate(record.reference, { state: 'Rejected', remarks: 'Missing mandatory field' });
    const { poller: p, updates } = poller();
    expect(await p.runOnce()).toMatchObject({ stored: 0, unknown: 2, skipped: 1 });
    expect(stored).toBe(0);
    expect(await updates.history(record.reference)).toEqual([]);
    expect(logs.lines.filter((l) => l.msg === 'case update for a case we do not know; dropped').map((l) => l.case)).toEqual(['PCE-999999', 'SOMEONE-ELSES-1']);
    expect(logs.lines.some((l) => l.reason === `Smart Bonding rejected a message we sent for ${record.reference}`)).toBe(true);
  });

  it('keeps going when Smart Bonding is away, and waits for the Retry-After of a 429', async () => {
    const record = await delivered();
    sb.fail('pull', { status: 503 });
    const { poller: p } = poller();
    expect(await p.runOnce()).toMatchObject({ failed: true });
    sb.fail('pull', { status: 429, headers: { 'retry-after': '120' } });
    expect(await p.runOnce()).toMatchObject({ failed: true });
    sb.tacUpdate(record.reference, { state: 'Update' });
    // Same clock: still inside the two minutes asked for, so Smart Bonding is not asked.
    const before = sb.count('pull');
    expect(await p.runOnce()).toMatchObject({ stored: 0, failed: false });
    expect(sb.count('pull')).toBe(before);
    expect(logs.lines.filter((l) => l.msg === 'case updates could not be pulled; will try again').map((l) => (l.err as { message: string }).message)).toEqual([
      'Smart Bonding answered HTTP 503',
      'Smart Bonding answered HTTP 429',
    ]);
  });

  it('reads the state names in any spelling, and an unknown one as work in progress', () => {
    expect(['New', 'Update', 'Work In Progress', 'Waiting for Customer', 'pending_customer', 'RESOLVED', 'Closed', 'Cancelled', 'Something else'].map(statusOf)).toEqual([
      'open',
      'in_progress',
      'in_progress',
      'waiting_for_customer',
      'waiting_for_customer',
      'resolved',
      'closed',
      'closed',
      'in_progress',
    ]);
  });
});
