/**
 * Webex signs every webhook notification: `X-Spark-Signature` is the hex HMAC-SHA1 of the request
 * body exactly as sent, keyed by the webhook's secret. We hash the raw bytes (never a re-serialised
 * JSON, whose key order and escaping may differ) and compare in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-spark-signature';

export class WebexWebhookVerifier {
  constructor(private readonly secret: string) {
    if (!secret) throw new Error('WebexWebhookVerifier needs a non-empty secret');
  }

  sign(rawBody: Buffer | string): string {
    return createHmac('sha1', this.secret).update(rawBody).digest('hex');
  }

  /** True only when `signature` is the HMAC of exactly these bytes. */
  verify(rawBody: Buffer, signature: string | string[] | undefined): boolean {
    if (typeof signature !== 'string') return false;
    const given = signature.trim().toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(given)) return false;
    const expected = createHmac('sha1', this.secret).update(rawBody).digest();
    return timingSafeEqual(expected, Buffer.from(given, 'hex'));
  }
}
