/**
 * The Teams member directory's own rules, with the look-up injected and time given by a clock:
 * what counts as an email, one look-up per user while remembered, failures remembered for less,
 * the cache bounded, a look-up that never answers does not hold the turn.
 */
import type { TurnContext } from 'botbuilder';
import { describe, expect, it } from 'vitest';
import { personFromMember, TeamsMemberDirectory } from '../../../src/channels/botframework/members';
import { silentLogger } from '../../support';


function contextFor(userId: string): TurnContext {
  return { activity: { from: { id: userId }, conversation: { id: 'a:conv' } } } as unknown as TurnContext;
}

function directory(lookup: (userId: string) => Promise<unknown>, options: { maxEntries?: number; timeoutMs?: number } = {}) {
  let now = Date.parse('2026-11-25T10:00:00.000Z');
  const calls: string[] = [];
  const dir = new TeamsMemberDirectory({
    logger: silentLogger,
    clock: () => now,
    ttlMs: 1_000,
    failureTtlMs: 100,
    ...options,
    lookup: (_ctx, userId) => {
      calls.push(userId);
      return lookup(userId);
    },
  });
  return { dir, calls, advance: (ms: number) => (now += ms) };
}

describe('personFromMember', () => {
  it('takes the email, else a UPN that is an address, and never something that is not one', () => {
    expect(personFromMember({ name: 'Olena', email: 'olena@partner.example' })).toEqual({ name: 'Olena', email: 'olena@partner.example' });
    expect(personFromMember({ name: 'Guest', email: null, userPrincipalName: 'guest@partner.example' })).toEqual({ name: 'Guest', email: 'guest@partner.example' });
    expect(personFromMember({ name: 'X', email: 'not an email', userPrincipalName: 'live.com#x' })).toEqual({ name: 'X' });
    expect(personFromMember('nonsense')).toBeUndefined();
  });
});

describe('TeamsMemberDirectory', () => {
  it('looks a person up once while remembered, and again after it expired', async () => {
    const { dir, calls, advance } = directory(async (id) => ({ email: `${id}@partner.example` }));
    expect(await dir.find(contextFor('u1'))).toEqual({ email: 'u1@partner.example' });
    expect(await dir.find(contextFor('u1'))).toEqual({ email: 'u1@partner.example' });
    expect(calls).toEqual(['u1']);
    advance(1_001);
    await dir.find(contextFor('u1'));
    expect(calls).toEqual(['u1', 'u1']);
  });

  it('remembers a failure for the shorter time, and the turn gets no email meanwhile', async () => {
    const { dir, calls, advance } = directory(async () => {
      throw Object.assign(new Error('forbidden'), { statusCode: 403 });
    });
    expect(await dir.find(contextFor('u1'))).toBeUndefined();
    expect(await dir.find(contextFor('u1'))).toBeUndefined();
    expect(calls).toHaveLength(1);
    advance(101);
    await dir.find(contextFor('u1'));
    expect(calls).toHaveLength(2);
  });

  it('keeps at most maxEntries people, forgetting the least recently used', async () => {
    const { dir, calls } = directory(async (id) => ({ email: `${id}@partner.example` }), { maxEntries: 2 });
    await dir.find(contextFor('u1'));
    await dir.find(contextFor('u2'));
    await dir.find(contextFor('u1')); // u1 is now the most recent
    await dir.find(contextFor('u3')); // u2 goes
    expect(dir.size).toBe(2);
    await dir.find(contextFor('u1'));
    await dir.find(contextFor('u2'));
    expect(calls).toEqual(['u1', 'u2', 'u3', 'u2']);
  });

  it('does not hold the turn for a look-up that never answers, and asks only once meanwhile', async () => {
    const { dir, calls } = directory(() => new Promise(() => undefined), { timeoutMs: 5 });
    expect(await dir.find(contextFor('u1'))).toBeUndefined();
    expect(await dir.find(contextFor('u1'))).toBeUndefined();
    expect(calls).toEqual(['u1']);
  });
});
