/**
 * Who is who in Webex: the bot itself (to ignore its own messages and find its mentions) and the
 * email of a person. Messages carry the sender's email; card presses and memberships do not, so it is
 * remembered from messages and otherwise looked up (`GET /people/{id}`), for a bounded number of people.
 */
import { LRUCache } from 'lru-cache';
import type { Inbound } from '../../engine/types';
import type { Logger } from '../../log';
import type { WebexApi, WebexPerson } from './api';

/** People whose email is remembered at most (the least recently used are forgotten first). */
const MAX_REMEMBERED_EMAILS = 10_000;

export interface WebexPeopleDeps {
  api: WebexApi;
  logger: Logger;
  /** Whether notifications are signed: only then does an email count as proven. */
  signed: boolean;
}

export class WebexPeople {
  /** Person id -> email. No time limit: an address outlives any process that remembers it. */
  private readonly emails = new LRUCache<string, string>({ max: MAX_REMEMBERED_EMAILS });
  private botPromise?: Promise<WebexPerson>;
  private known?: WebexPerson;

  constructor(private readonly deps: WebexPeopleDeps) {}

  /** The bot's identity if it has been fetched already (the webhook decides without waiting for it). */
  get me(): WebexPerson | undefined {
    return this.known;
  }

  /** The bot's identity (`GET /people/me`), fetched once; a failure is tried again at the next call. */
  bot(): Promise<WebexPerson> {
    this.botPromise ??= this.deps.api.me().then(
      (me) => (this.known = me),
      (err: unknown) => {
        this.botPromise = undefined; // try again with the next notification
        throw err;
      },
    );
    return this.botPromise;
  }

  /** The person's email: remembered from their messages, else looked up (GET /people/{id}) and remembered. */
  async emailOf(personId: string): Promise<string | undefined> {
    const known = this.emails.get(personId);
    if (known) return known;
    try {
      const email = (await this.deps.api.getPerson(personId)).emails?.[0];
      if (email) this.remember(personId, email);
      return email;
    } catch (err) {
      this.deps.logger.warn({ err }, 'Webex: the person could not be looked up; the turn goes on without their email');
      return undefined;
    }
  }

  remember(personId: string, email: string): void {
    this.emails.set(personId, email);
  }

  /**
   * The sender as Webex reports them. Their email counts as proven (an agent may be listed by it)
   * only when notifications are signed: with WEBEX_INSECURE_DEV anyone could have sent this one.
   */
  user(id: string, email: string | undefined): Inbound['user'] {
    return { id, email, verified: email && this.deps.signed ? [{ scheme: 'email', value: email }] : undefined };
  }
}

/** Webex ids are base64 of `ciscospark://<region>/PEOPLE/<uuid>`; some places use the bare uuid. */
export function sameId(a: string, b: string): boolean {
  if (a === b) return true;
  const tail = (id: string) => {
    const decoded = /^[A-Za-z0-9+/=_-]+$/.test(id) ? Buffer.from(id, 'base64').toString('utf8') : id;
    return decoded.startsWith('ciscospark://') ? decoded.split('/').pop()?.toLowerCase() : id;
  };
  return tail(a) === tail(b);
}
