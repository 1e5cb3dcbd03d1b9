/**
 * Conversation tokens: `<conversation id>.<random secret>`, of which the log keeps only a hash.
 *
 * A token expires `tokenTtlSeconds` after it was issued (403 TokenExpired, as Azure's Direct Line
 * answers). A refresh issues a new one; the old one is still accepted for REFRESH_GRACE_MS and then
 * refused. A refresh also needs the site token (WEBCHAT_TOKEN) the conversation started under, so after
 * a change of it no conversation outlives its current token.
 */
import { scryptSync } from 'node:crypto';
import type { Request } from 'restify';
import { bearerToken, matchesHash, newSecret, sha256 } from './access';
import type { ActivityLog, DirectLineConversation } from './activity-log';

export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
/**
 * How long the token a refresh replaced still works. Web Chat swaps tokens between requests, but a
 * poll or post already sent (it waits up to 20 s, and retries with the same token) must not fail, nor
 * a refresh retried because its answer was lost. Short, so a copied old token is soon worthless.
 */
export const REFRESH_GRACE_MS = 2 * 60_000;
const CONVERSATION_ID = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * What a conversation remembers of the site token it was started under: enough to notice a change,
 * not a plain hash a reader of the database could test guesses of a short token against quickly.
 */
export function siteKeyOf(siteToken: string | undefined): string {
  return siteToken ? scryptSync(siteToken, 'pce.directline.site-key', 16).toString('hex') : '';
}

/** A request about a conversation: its conversation, or why not as a Direct Line error (status, code). */
export type ConversationAuth =
  | { ok: true; conversation: DirectLineConversation; expiresAt: number }
  | { ok: false; status: 400 | 403 | 404; code: string; message: string };

/** A presented token against a conversation: good until `expiresAt` (ms), expired, or not its token. */
type TokenCheck = { valid: true; expiresAt: number } | { valid: false; expired: boolean };

/** The outcome of a refresh; `issued` carries the new token. */
export type TokenRefresh =
  | { outcome: 'issued'; conversation: DirectLineConversation; token: string; expiresAt: number }
  | { outcome: 'invalid' }
  | { outcome: 'siteChanged'; conversation: DirectLineConversation }
  | { outcome: 'conflict' };

export class ConversationTokens {
  private readonly ttlMs: number;

  constructor(
    private readonly log: ActivityLog,
    private readonly clock: () => Date,
    tokenTtlSeconds = DEFAULT_TOKEN_TTL_SECONDS,
    /** `siteKeyOf(WEBCHAT_TOKEN)`: conversations remember it, and a refresh needs it unchanged. */
    readonly siteKey = '',
  ) {
    this.ttlMs = tokenTtlSeconds * 1000;
  }

  /** A new token for the conversation with this id, and the hash the log keeps of it. */
  issue(conversationId: string): { token: string; hash: string } {
    const token = `${conversationId}.${newSecret()}`;
    return { token, hash: sha256(token) };
  }

  /** When the conversation's current secret expires (ms since the epoch). */
  expiryOf(conversation: DirectLineConversation): number {
    return Date.parse(conversation.secretIssuedAt ?? conversation.createdAt) + this.ttlMs;
  }

  /** The conversation a token is valid for now, and when it expires. */
  async conversationFor(token: string): Promise<{ conversation: DirectLineConversation; expiresAt: number } | undefined> {
    const id = token.split('.')[0] ?? '';
    if (!CONVERSATION_ID.test(id)) return undefined;
    const conversation = await this.log.getConversation(id);
    const check = conversation && this.check(conversation, token);
    return check?.valid ? { conversation: conversation!, expiresAt: check.expiresAt } : undefined;
  }

  /** Unknown conversation → 404; known but without its own token → 403; its token expired → 403 TokenExpired. */
  async authorise(req: Request): Promise<ConversationAuth> {
    const id = String(req.params?.conversationId ?? '');
    const conversation = CONVERSATION_ID.test(id) ? await this.log.getConversation(id) : undefined;
    if (!conversation) return { ok: false, status: 404, code: 'BadArgument', message: 'Conversation not found.' };
    const check = this.check(conversation, bearerToken(req.headers));
    if (!check.valid) {
      return check.expired
        ? { ok: false, status: 403, code: 'TokenExpired', message: 'The token has expired; refresh tokens before they do, or start a new conversation.' }
        : { ok: false, status: 403, code: 'Forbidden', message: "This conversation's token is required." };
    }
    return { ok: true, conversation, expiresAt: check.expiresAt };
  }

  /**
   * A new token for the conversation of a valid one (the current token, or the one just replaced:
   * a refresh whose answer was lost is retried with it). The replaced token works REFRESH_GRACE_MS
   * more, never past its own expiry. Of two refreshes at once each gets its own new token, the later
   * one current; the page's tabs share the newest through localStorage.
   */
  async refresh(token: string | undefined): Promise<TokenRefresh> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const found = token ? await this.conversationFor(token) : undefined;
      if (!found) return { outcome: 'invalid' };
      const { conversation } = found;
      // Absent: started before site keys were kept; it counts as started under today's site token.
      if (conversation.siteKey !== undefined && conversation.siteKey !== this.siteKey) return { outcome: 'siteChanged', conversation };
      const now = this.clock().getTime();
      const next = this.issue(conversation.id);
      const rotated = await this.log.rotateSecret(conversation.id, {
        expectedHash: conversation.secretHash,
        secretHash: next.hash,
        issuedAt: new Date(now).toISOString(),
        previousSecretHash: conversation.secretHash,
        previousSecretUntil: new Date(Math.min(now + REFRESH_GRACE_MS, this.expiryOf(conversation))).toISOString(),
        siteKey: this.siteKey,
      });
      if (rotated) return { outcome: 'issued', conversation, token: next.token, expiresAt: now + this.ttlMs };
      // Another refresh replaced the secret between our read and write: read it again.
    }
    return { outcome: 'conflict' };
  }

  /** The current secret until its TTL is up; the one a refresh replaced until its grace is up. */
  private check(conversation: DirectLineConversation, token: string | undefined): TokenCheck {
    const now = this.clock().getTime();
    let expiresAt: number;
    if (matchesHash(token, conversation.secretHash)) expiresAt = this.expiryOf(conversation);
    else if (conversation.previousSecretHash && matchesHash(token, conversation.previousSecretHash)) expiresAt = Date.parse(conversation.previousSecretUntil ?? '');
    else return { valid: false, expired: false };
    // NaN (an unreadable time) compares false: refused as expired.
    return now < expiresAt ? { valid: true, expiresAt } : { valid: false, expired: true };
  }
}
