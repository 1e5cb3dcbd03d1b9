/** Who may read a case: the person who opened it, or an agent listed in AGENT_IDS by any of their ids. */
import { describe, expect, it } from 'vitest';
import { canSee, isAgent } from '../../src/cases/open-case';
import type { CaseRecord } from '../../src/cases/schema';

const agents: ReadonlySet<string> = new Set(['Agent.Smith@Partner.example', 'aad-object-id-1']);

describe('isAgent', () => {
  it('finds an agent listed by Webex email when the channel gives the email but no agent ids', () => {
    expect(isAgent({ user: { id: 'webex-person-1', email: 'Agent.Smith@Partner.example' } }, agents)).toBe(true);
  });

  it('matches the email whatever its capitalisation', () => {
    expect(isAgent({ user: { id: 'webex-person-1', email: 'agent.smith@partner.example' } }, agents)).toBe(true);
    expect(isAgent({ user: { id: 'webex-person-1', agentIds: ['AGENT.SMITH@partner.example'] } }, agents)).toBe(true);
  });

  it('still finds agents by user id and channel agent ids, and nobody else', () => {
    expect(isAgent({ user: { id: 'aad-object-id-1' } }, agents)).toBe(true);
    expect(isAgent({ user: { id: 'x', agentIds: ['aad-object-id-1'] } }, agents)).toBe(true);
    expect(isAgent({ user: { id: 'webex-person-2', email: 'someone.else@partner.example' } }, agents)).toBe(false);
    expect(isAgent({ user: { id: 'webex-person-2' } }, agents)).toBe(false);
  });
});

describe('canSee', () => {
  const record = { openedBy: { kind: 'person', userKey: 'webex:customer-1' } } as unknown as CaseRecord;

  it('lets a Webex agent listed by email read a case someone else opened', () => {
    expect(canSee(record, { channel: 'webex', user: { id: 'agent-person', email: 'agent.smith@partner.example' } }, agents)).toBe(true);
    expect(canSee(record, { channel: 'webex', user: { id: 'other-person', email: 'other@partner.example' } }, agents)).toBe(false);
    expect(canSee(record, { channel: 'webex', user: { id: 'customer-1' } }, agents)).toBe(true);
  });
});
