/**
 * Who is this, and is it an agent? The one place that decides.
 *
 * A channel proves identities its own way, and only those proofs count here:
 * - Teams: the AAD object id of an activity whose Bot Framework JWT was validated (an app id is set);
 * - Webex: the email Webex reports for the sender of a signed notification;
 * - web chat, the terminal, an Emulator without an app id: nothing. Ids there are chosen by the
 *   client, so they never make anyone an agent.
 * AGENT_IDS lists agents as proven ids: entries with `@` are emails, the others AAD object ids. An
 * id proven on one channel never matches an entry of the other kind.
 *
 * A case belongs to `channel:user.id` of whoever opened it: the same person on the same channel may
 * read it (channels make that id unforgeable: JWT, signature, or a web chat id derived from a secret
 * only that browser holds).
 */
import type { Inbound, InboundUser, VerifiedId } from '../engine/types';

export type { VerifiedId };

function normalised(id: VerifiedId): string {
  return `${id.scheme}:${id.value.trim().toLowerCase()}`;
}

export class Agents {
  private readonly listed: ReadonlySet<string>;

  constructor(agentIds: Iterable<string>) {
    const entries = [...agentIds].map((raw) => raw.trim()).filter(Boolean);
    this.listed = new Set(entries.map((e) => normalised({ scheme: e.includes('@') ? 'email' : 'aad', value: e })));
  }

  get size(): number {
    return this.listed.size;
  }

  /** Listed in AGENT_IDS by an id its channel proved. */
  isAgent(user: Pick<InboundUser, 'verified'>): boolean {
    return (user.verified ?? []).some((id) => this.listed.has(normalised(id)));
  }
}

/** The key a case is owned under: the channel's own id of the person. */
export function userKeyOf(inbound: Pick<Inbound, 'channel' | 'user'>): string {
  return `${inbound.channel}:${inbound.user.id}`;
}

/** May this person read a case opened by `ownerKey`? Its owner, or an agent. */
export function canSeeCase(ownerKey: string, inbound: Pick<Inbound, 'channel' | 'user'>, agents: Agents): boolean {
  return ownerKey === userKeyOf(inbound) || agents.isAgent(inbound.user);
}
