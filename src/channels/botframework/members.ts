/**
 * Who the person is, for Teams: activities carry only a display name and ids, so the email a case
 * needs is looked up with `TeamsInfo.getMember` (connector `GET /v3/conversations/{id}/members/{userId}`).
 * Cached per user (bounded, with a shorter memory for failures so a broken look-up does not cost
 * every turn), one look-up in flight per user, and never allowed to hold a turn up for long: after
 * `timeoutMs` the turn goes on without it (the answer still fills the cache for the next turn).
 */
import { TeamsInfo, type TurnContext } from 'botbuilder';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { KnownPerson } from '../../engine/types';
import type { Logger } from '../../log';

export interface TeamsMemberDirectoryOptions {
  logger: Logger;
  /** Users remembered at most (least recently used forgotten first). Default 5000. */
  maxEntries?: number;
  /** How long a found person is remembered. Default 12 h. */
  ttlMs?: number;
  /** How long a failed look-up is remembered (the turn goes on without an email meanwhile). Default 5 min. */
  failureTtlMs?: number;
  /** The longest a turn waits for a look-up. Default 2000. */
  timeoutMs?: number;
  /** Milliseconds (default `Date.now`); above zero, as lru-cache takes a start time of 0 for none. */
  clock?: () => number;
  /** The look-up itself (default `TeamsInfo.getMember`); tests count calls through the fake connector instead. */
  lookup?: (context: TurnContext, userId: string) => Promise<unknown>;
}

/** The fields of a TeamsChannelAccount we read; anything that is not an email address is not taken as one. */
const teamsMember = z.looseObject({
  name: z.string().max(512).optional().nullable(),
  email: z.string().max(320).optional().nullable(),
  userPrincipalName: z.string().max(320).optional().nullable(),
});
const emailAddress = z.email();

/** A look-up's answer; `person` is undefined when it failed or found nobody. */
interface Entry {
  person: KnownPerson | undefined;
}

export function personFromMember(member: unknown): KnownPerson | undefined {
  const parsed = teamsMember.safeParse(member);
  if (!parsed.success) return undefined;
  const { name, email, userPrincipalName } = parsed.data;
  // Guests and some tenants have no `email`; the UPN is the sign-in address and usually the mailbox.
  const address = [email, userPrincipalName].find((v) => !!v && emailAddress.safeParse(v).success) ?? undefined;
  return { ...(name ? { name } : {}), ...(address ? { email: address } : {}) };
}

export class TeamsMemberDirectory {
  private readonly entries: LRUCache<string, Entry>;
  private readonly inFlight = new Map<string, Promise<KnownPerson | undefined>>();

  constructor(private readonly opts: TeamsMemberDirectoryOptions) {
    this.entries = new LRUCache<string, Entry>({
      max: opts.maxEntries ?? 5_000,
      ttl: opts.ttlMs ?? 12 * 3_600_000,
      // The clock is read at every look-up: no time cached behind a timer, so a test's clock is exact.
      ttlResolution: 0,
      perf: { now: opts.clock ?? Date.now },
    });
  }

  /** The person behind the activity's `from`, or undefined when unknown (failed, slow, not a member). */
  async find(context: TurnContext): Promise<KnownPerson | undefined> {
    const userId = context.activity.from?.id;
    if (!userId) return undefined;
    const cached = this.entries.get(userId);
    if (cached) return cached.person;
    let pending = this.inFlight.get(userId);
    if (!pending) {
      pending = this.fetch(context, userId);
      this.inFlight.set(userId, pending);
      void pending.finally(() => this.inFlight.delete(userId));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.opts.timeoutMs ?? 2_000);
      timer.unref?.();
    });
    try {
      return await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async fetch(context: TurnContext, userId: string): Promise<KnownPerson | undefined> {
    const lookup = this.opts.lookup ?? ((ctx: TurnContext, id: string) => TeamsInfo.getMember(ctx, id));
    let person: KnownPerson | undefined;
    let ok = true;
    try {
      person = personFromMember(await lookup(context, userId));
    } catch (err) {
      ok = false;
      const e = err as { statusCode?: unknown; code?: unknown; message?: unknown };
      // Ids only: the error of a look-up never carries the person's details, but keep it that way.
      this.opts.logger.warn(
        { conversation: context.activity.conversation?.id, user: userId, status: e.statusCode, code: e.code },
        'Teams member look-up failed; the turn goes on without the email',
      );
    }
    this.entries.set(userId, { person }, ok ? undefined : { ttl: this.opts.failureTtlMs ?? 5 * 60_000 });
    return person;
  }

  /** Users currently remembered (tests: the cache stays bounded). */
  get size(): number {
    return this.entries.size;
  }
}
