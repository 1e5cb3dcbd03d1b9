/** Who is an agent, and who may read a case: only ids a channel proved count, never a client-chosen id. */
import { describe, expect, it } from 'vitest';
import { Agents, canSeeCase } from '../../src/security/identity';

const agents = new Agents(['Agent.Smith@Partner.example', 'AAD-object-id-1', ' ']);

describe('Agents', () => {
  it('finds an agent by an email Webex proved, whatever its capitalisation', () => {
    expect(agents.isAgent({ verified: [{ scheme: 'email', value: 'agent.smith@partner.example' }] })).toBe(true);
    expect(agents.isAgent({ verified: [{ scheme: 'email', value: 'AGENT.SMITH@partner.example' }] })).toBe(true);
  });

  it('finds an agent by an AAD object id Teams proved', () => {
    expect(agents.isAgent({ verified: [{ scheme: 'aad', value: 'aad-object-id-1' }] })).toBe(true);
  });

  it('never matches an id proven on one channel against an entry of the other kind', () => {
    expect(agents.isAgent({ verified: [{ scheme: 'aad', value: 'Agent.Smith@Partner.example' }] })).toBe(false);
    expect(agents.isAgent({ verified: [{ scheme: 'email', value: 'AAD-object-id-1' }] })).toBe(false);
  });

  it('makes nobody an agent without a proven id, whatever user id or email they claim', () => {
    expect(agents.isAgent({})).toBe(false);
    expect(agents.isAgent({ verified: [] })).toBe(false);
    expect(agents.isAgent({ verified: [{ scheme: 'email', value: 'someone.else@partner.example' }] })).toBe(false);
    expect(agents.size).toBe(2);
  });
});

describe('canSeeCase', () => {
  it('lets the owner on the same channel, and a proven agent, read a case; nobody else', () => {
    const owner = 'webex:customer-1';
    expect(canSeeCase(owner, { channel: 'webex', user: { id: 'customer-1' } }, agents)).toBe(true);
    expect(canSeeCase(owner, { channel: 'directline', user: { id: 'customer-1' } }, agents)).toBe(false);
    expect(canSeeCase(owner, { channel: 'webex', user: { id: 'agent-person', verified: [{ scheme: 'email', value: 'agent.smith@partner.example' }] } }, agents)).toBe(true);
    expect(canSeeCase(owner, { channel: 'webex', user: { id: 'agent-person', email: 'agent.smith@partner.example' } }, agents)).toBe(false);
  });
});
