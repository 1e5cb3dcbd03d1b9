/**
 * Issue 23 in the web chat with two bot instances on one PostgreSQL schema: a follow-up accepted on
 * one instance is due, both instances' workers pass over it again and again at once, and the person's
 * activity stream gets the question, with its buttons, exactly once; the press, posted to the other
 * instance, is an ordinary turn.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { SqlStore } from '../../src/storage/index';
import { DirectLineTestClient } from '../channels/directline/harness';
import { dropPostgresSchema, startInstance, uniqueName, type Instance } from '../support';

const schemas: string[] = [];
const servers: Instance[] = [];

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const schema of schemas) await dropPostgresSchema(schema);
});

type Activity = { type: string; text?: string; from: { role?: string }; suggestedActions?: { actions: { title: string; value: string }[] } };

const wordsOf = (a: Activity) => a.text ?? '';
/** Web Chat shows the options as suggested actions: a click sends the title back as the person's message. */
const buttonsOf = (a: Activity) => a.suggestedActions?.actions ?? [];

describe('a follow-up in the web chat with two instances on PostgreSQL', () => {
  it('is asked once, whichever instance fires it, and the answer is taken by the other', async () => {
    const schema = uniqueName('followups');
    schemas.push(schema);
    const env = { WEBCHAT_ENABLED: 'true', FOLLOWUP_POLL_SECONDS: '3600' };
    const a = await startInstance(schema, 'a', env);
    servers.push(a);
    const b = await startInstance(schema, 'b', env);
    servers.push(b);

    const dlA = new DirectLineTestClient(a.url);
    const dlB = new DirectLineTestClient(b.url);
    const c = await dlA.startOk({ locale: 'en' });
    const bot = async (): Promise<Activity[]> => ((await dlB.getOk(c)).activities as unknown as Activity[]).filter((x) => x.type === 'message' && x.from.role === 'bot');
    /** Types `text` on instance `dl` (a suggested action sends its title the same way) and waits for the answer. */
    const say = async (dl: DirectLineTestClient, text: string) => {
      const count = (await bot()).length;
      expect((await dl.post(c, { type: 'message', from: { id: c.userId }, text })).status).toBe(200);
      await vi.waitFor(async () => expect((await bot()).length).toBeGreaterThan(count), { timeout: 10_000, interval: 50 });
    };
    await vi.waitFor(async () => expect((await bot()).length).toBeGreaterThan(0), { timeout: 10_000, interval: 50 });
    await say(dlA, 'Check whether my change went through');
    await say(dlB, "Yes, it's updated");
    await say(dlA, 'Check back with me tomorrow');
    expect(wordsOf((await bot()).at(-1)!)).toContain("I'll check back with you here tomorrow");

    // Due now: both workers pass over it at once, several times.
    const db = (a.app.store as SqlStore).db.withTables<{ followups: { due_at: string } }>();
    await db.updateTable('followups').set({ due_at: new Date(Date.now() - 1000).toISOString() }).execute();
    const passes = await Promise.all([a, b, a, b, a, b].map((s) => s.app.followups.worker.runOnce()));
    expect(passes.reduce((n, p) => n + p.fired, 0)).toBe(1);

    const asked = (await bot()).filter((x) => wordsOf(x).includes('Did the provisioning email arrive?'));
    expect(asked).toHaveLength(1);
    expect(buttonsOf(asked[0]!).map((x) => x.title)).toEqual(['Yes', 'No']);
    await say(dlB, buttonsOf(asked[0]!)[0]!.value);
    expect(wordsOf((await bot()).at(-1)!)).toContain('Great, that settles it.');
    const rows = await (a.app.store as SqlStore).db.selectFrom('followups' as never).select(['status', 'answer'] as never).execute();
    expect(rows).toEqual([{ status: 'fired', answer: 'arrived' }]);
  });
});
