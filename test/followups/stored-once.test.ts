/**
 * Issue 19 (row size): after an ending, the case hand-off the ending offers is stored once per
 * snapshot part (the after-ending flow's input, and its output for "talk to support"), not again as
 * the follow-up's intake or in the carry. Rows stored before, with `followup.intake` and the hand-off
 * in the carry, still restore: the follow-up is scheduled with the same intake and opens a case with it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FOLLOWUP_DUE_EVENT } from '../../dialogs/followup/contract';
import type { Application } from '../../src/app';
import { eventInbound } from '../../src/engine/proactive';
import type { Inbound } from '../../src/engine/types';
import type { SqlStore } from '../../src/storage';
import { createApp, testConfig } from '../support';
import { testDir } from '../support/temp';

const T0 = new Date('2026-12-01T09:00:00.000Z');
const USER: Inbound['user'] = { id: 'u-1', name: 'Olena Petrenko', email: 'olena@partner.example' };
const GUIDE_TRAIL = ['entry:check_change', 'verifyUpdate:not_updated', 'orderLineStatus:awaiting', 'editAccess:cannot_edit'];
let app: Application | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** An app on `file`; a new one on the same file restores from the stored rows (no live actors). */
async function start(file: string) {
  await app?.close();
  app = await createApp(testConfig({ DATABASE_URL: `sqlite:${file}`, WEBCHAT_ENABLED: 'false' }), { engine: { clock: () => T0 } });
  return app;
}

function person(conversationId: string) {
  const send = (extra: Partial<Inbound>) => app!.engine.handle({ channel: 'test', conversationId, user: USER, locale: 'en', ...extra });
  return { key: `test:${conversationId}`, send, press: (id: string) => send({ choice: { id } }) };
}

/** The guide walked to "forward it to the owner", an ending offering a follow-up and a case. */
async function toForwardToOwner(p: ReturnType<typeof person>) {
  await p.send({ kind: 'greeting' });
  for (const choice of ['check_change', 'not_updated', 'awaiting']) await p.press(choice);
  const r = await p.press('cannot_edit');
  expect(r.step).toBe('forwardToOwner');
  return r;
}

interface Row {
  snapshot: string;
  parents: string;
}
const rowOf = async (key: string): Promise<Row> =>
  (await (app!.store as SqlStore).db.selectFrom('conversations').select(['snapshot', 'parents']).where('key', '=', key).executeTakeFirstOrThrow()) as Row;
const write = (key: string, snapshot: unknown) =>
  (app!.store as SqlStore).db.updateTable('conversations').set({ snapshot: JSON.stringify(snapshot) }).where('key', '=', key).execute();
const times = (text: string, part: string) => text.split(part).length - 1;
const trailOf = (draft: { trail?: { step: string; choice?: string }[] }) => (draft.trail ?? []).map((t) => `${t.step}:${t.choice}`);

/** The follow-up pending for `key`, fired as the worker fires it; walked to the case ("no" three times). */
async function fireToCase(p: ReturnType<typeof person>) {
  const [f] = await app!.followups.repository.pendingFor(p.key);
  expect(f?.intake).toBeDefined();
  const asked = await app!.engine.handle(eventInbound(p.key, USER.id, { name: FOLLOWUP_DUE_EVENT, id: f!.id, data: { id: f!.id, ending: f!.ending, hours: f!.hours, intake: f!.intake } }));
  expect(asked.step).toBe('followupAsk');
  await p.press('not_found');
  await p.press('updated');
  await p.press('not_found');
  const stored = await app!.store.loadConversation(p.key);
  expect(stored?.flowId).toBe('support-case');
  return { intake: f!.intake!, draft: (stored!.snapshot as { context: { draft: { trail: { step: string; choice?: string }[] } } }).context.draft };
}

describe('after an ending, the case hand-off', () => {
  it('is stored once in the after-ending input and once in its output, not as the follow-up intake or in the carry', async () => {
    const dir = testDir('followups-stored-once');
    await start(dir.join('bot.sqlite'));
    const p = person('c-new');
    await toForwardToOwner(p);
    await p.press('helped');
    await p.press('skip_comment');
    const set = await p.press('check_back');
    expect(set.step).toBe('afterCheckBackSet');
    const row = await rowOf(p.key);
    const snapshot = JSON.parse(row.snapshot) as { context: { input: { followup: object } }; output: { carry: object; onSupport: object } };
    expect(snapshot.context.input.followup).toEqual({ ending: 'forwardToOwner', hours: 24 });
    expect(snapshot.output.carry).not.toHaveProperty('onSupport');
    expect(snapshot.output.onSupport).toMatchObject({ flow: 'support-case' });
    // The guide's trail: in the input's hand-off and in the output's, nowhere else.
    expect(times(row.snapshot, '"verifyUpdate"')).toBe(2);
    // The follow-up still knows what the guide knew, and "talk to support" still opens the case intake.
    const [f] = await app!.followups.repository.pendingFor(p.key);
    expect(trailOf(f!.intake!.draft)).toEqual(GUIDE_TRAIL);
    expect(set.messages.at(-1)!.choices.map((c) => c.id)).toContain('cmd.support');
    await p.press('cmd.support');
    const stored = await app!.store.loadConversation(p.key);
    expect(stored?.flowId).toBe('support-case');
    expect(trailOf((stored!.snapshot as { context: { draft: { trail: { step: string; choice?: string }[] } } }).context.draft)).toEqual(GUIDE_TRAIL);
  });
});

describe('a row stored before the hand-off was kept once', () => {
  it('at an ending of the after-ending flow (intake in the follow-up, hand-off in the carry): "check back" schedules the same intake, which opens the case', async () => {
    const file = testDir('followups-stored-old-done').join('bot.sqlite');
    await start(file);
    const p = person('c-old-done');
    await toForwardToOwner(p);
    await p.press('helped');
    expect((await p.press('skip_comment')).step).toBe('afterThanked');
    const stored = JSON.parse((await rowOf(p.key)).snapshot);
    const { onSupport } = stored.output;
    // As earlier versions stored it: the intake copied into the follow-up offer, the hand-off into the carry.
    stored.context.input.followup.intake = onSupport.input;
    stored.output.carry = { ...stored.output.carry, followup: { ...stored.output.carry.followup, intake: onSupport.input }, onSupport };
    await write(p.key, stored);

    await start(file);
    const set = await p.press('check_back');
    expect(set.step).toBe('afterCheckBackSet');
    // "Talk to support" is still offered from the carried hand-off.
    expect(set.messages.at(-1)!.choices.map((c) => c.id)).toContain('cmd.support');
    const { intake, draft } = await fireToCase(p);
    expect(intake).toEqual(onSupport.input);
    expect(trailOf(draft).slice(0, GUIDE_TRAIL.length)).toEqual(GUIDE_TRAIL);
    expect(trailOf(draft).slice(GUIDE_TRAIL.length)).toEqual(['followupAsk:not_found', 'followupVerify:updated', 'followupSpam:not_found']);
  });

  it('while asking for a comment (intake in the follow-up offer): "check back" schedules that intake, "talk to support" opens the case', async () => {
    const file = testDir('followups-stored-old-comment').join('bot.sqlite');
    await start(file);
    const p = person('c-old-comment');
    await toForwardToOwner(p);
    expect((await p.press('not_helped')).step).toBe('afterComment');
    const stored = JSON.parse((await rowOf(p.key)).snapshot);
    const intake = stored.context.input.onSupport.input;
    stored.context.input.followup.intake = intake;
    await write(p.key, stored);

    await start(file);
    const set = await p.press('check_back');
    expect(set.step).toBe('afterCheckBackSet');
    const [f] = await app!.followups.repository.pendingFor(p.key);
    expect(f!.intake).toEqual(intake);
    await p.press('cmd.support');
    const opened = await app!.store.loadConversation(p.key);
    expect(opened?.flowId).toBe('support-case');
    expect(trailOf((opened!.snapshot as { context: { draft: { trail: { step: string; choice?: string }[] } } }).context.draft)).toEqual(GUIDE_TRAIL);
  });
});
