/**
 * People's emails in Webex: remembered from messages, looked up once otherwise, and bounded (the
 * least recently used person is forgotten first); an email counts as proven only when signed.
 */
import { describe, expect, it, vi } from 'vitest';
import type { WebexApi } from '../../../src/channels/webex/api';
import { WebexPeople } from '../../../src/channels/webex/people';
import { silentLogger } from '../../support';

function people(signed = true) {
  const getPerson = vi.fn(async (id: string) => ({ id, emails: [`${id}@looked-up.example`] }));
  const api = { getPerson } as unknown as WebexApi;
  return { people: new WebexPeople({ api, logger: silentLogger, signed }), getPerson };
}

describe('WebexPeople', () => {
  it('answers with the email a message carried, without looking the person up', async () => {
    const { people: p, getPerson } = people();
    p.remember('olena', 'olena@example.com');
    expect(await p.emailOf('olena')).toBe('olena@example.com');
    expect(getPerson).not.toHaveBeenCalled();
  });

  it('looks a person up once and remembers the answer', async () => {
    const { people: p, getPerson } = people();
    expect(await p.emailOf('petro')).toBe('petro@looked-up.example');
    expect(await p.emailOf('petro')).toBe('petro@looked-up.example');
    expect(getPerson).toHaveBeenCalledTimes(1);
  });

  it('remembers 10,000 people and forgets the least recently used first', async () => {
    const { people: p, getPerson } = people();
    p.remember('first', 'first@example.com');
    p.remember('second', 'second@example.com');
    await p.emailOf('first'); // used again: now 'second' is the least recently used
    for (let i = 0; i < 9_999; i++) p.remember(`person-${i}`, `person-${i}@example.com`);
    expect(await p.emailOf('first')).toBe('first@example.com');
    expect(getPerson).not.toHaveBeenCalled();
    expect(await p.emailOf('second')).toBe('second@looked-up.example');
    expect(getPerson).toHaveBeenCalledWith('second');
  });

  it('counts an email as proven only when notifications are signed', () => {
    expect(people(true).people.user('id', 'a@example.com').verified).toEqual([{ scheme: 'email', value: 'a@example.com' }]);
    expect(people(false).people.user('id', 'a@example.com').verified).toBeUndefined();
    expect(people(true).people.user('id', undefined).verified).toBeUndefined();
  });
});
