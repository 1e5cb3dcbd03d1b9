/**
 * The Host allow-list, against DNS rebinding: a web page on evil.example whose name is made to resolve
 * to 127.0.0.1 reaches this server from the person's own browser, as "this machine". Its requests
 * still say `Host: evil.example`, so anything but a name we know is answered 421 before any route.
 *
 * Allowed: `localhost` and `*.localhost`, any IP literal (rebinding needs a name), the hosts of
 * PUBLIC_URL and WEBEX_PUBLIC_URL, and ALLOWED_HOSTS. Routes that the platforms authenticate
 * themselves (Teams with an app id, signed Webex notifications) and `/healthz`, `/readyz` are not checked: their
 * Host is whatever name the platform or load balancer was given, and they grant nothing for being local.
 */
import { isIP } from 'node:net';
import type { Next, Request, Response, Server } from 'restify';
import type { Logger } from '../log';
import { pathOf, type ServerPlugin } from '../server';

/** The host name of a Host header (`name:port`, `[v6]:port`), lower-case, or undefined when malformed. */
export function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const h = header.trim().toLowerCase();
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
  if (v6) return isIP(v6[1]!) === 6 ? v6[1] : undefined;
  const named = /^([a-z0-9.-]{1,253})(?::\d{1,5})?$/.exec(h);
  return named ? named[1]!.replace(/\.$/, '') : undefined;
}

export class HostAllowList {
  private readonly names: ReadonlySet<string>;

  /** `urls`: configured public URLs whose hosts are allowed; `names`: more host names. */
  constructor(urls: readonly (string | undefined)[], names: readonly string[] = []) {
    const fromUrls = urls.filter((u): u is string => !!u).map((u) => new URL(u).hostname.toLowerCase().replace(/^\[|\]$/g, ''));
    this.names = new Set([...fromUrls, ...names.map((n) => n.toLowerCase())]);
  }

  /** Answers by Host header: a bot is reached under a handful of names; a flood of others is not cached. */
  private readonly decided = new Map<string, boolean>();

  allows(header: string | undefined): boolean {
    if (header === undefined) return false;
    const known = this.decided.get(header);
    if (known !== undefined) return known;
    const allowed = this.decide(header);
    if (this.decided.size < 64) this.decided.set(header, allowed);
    return allowed;
  }

  private decide(header: string): boolean {
    const name = hostName(header);
    if (!name) return false;
    if (name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0) return true;
    return this.names.has(name);
  }
}

export interface HostGuardOptions {
  allowList: HostAllowList;
  /** Paths (exact, without query) that are not checked. */
  exempt: ReadonlySet<string>;
  logger: Logger;
}

export function hostGuard(opts: HostGuardOptions): ServerPlugin {
  return {
    name: 'host-guard',
    register(server: Server) {
      server.pre((req: Request, res: Response, next: Next) => {
        const path = pathOf(req.url);
        if (opts.exempt.has(path) || opts.allowList.allows(req.headers.host)) return next();
        opts.logger.info({ path }, 'request refused: Host is not one of this bot\'s names');
        res.send(421, { code: 'MisdirectedRequest', message: 'This server does not answer for that host name. Operators: see PUBLIC_URL and ALLOWED_HOSTS.' });
        return next(false);
      });
    },
  };
}
