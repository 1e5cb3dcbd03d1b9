/**
 * What the intake accepts for each field, as zod schemas that normalise the value and, when it is
 * not acceptable, name the specific hint (an i18n key) the person is re-asked with.
 */
import { z } from 'zod';

/** Result of reading one typed answer: the normalised value, or the hint to re-ask with. */
export type FieldResult = { ok: true; value: string } | { ok: false; hint: string };

const NS = 'support-case:';

/** CCW sales order numbers and web order numbers are all digits; people add "SO", "#" or spaces. */
export const ORDER_DIGITS = { min: 6, max: 12 } as const;
export const orderNumberSchema = z
  .string()
  .transform((s) => s.trim().replace(/^(?:sales\s*order|web\s*order|order|so|wo)\s*(?:number|no\.?|id)?\s*[:#]?\s*/i, ''))
  .transform((s) => s.replace(/^#/, '').replace(/[\s-]/g, ''))
  .pipe(z.string().regex(new RegExp(`^\\d{${ORDER_DIGITS.min},${ORDER_DIGITS.max}}$`)));

/** Subscription ids look like `Sub123456`; stored with the canonical `Sub` prefix. */
export const subscriptionIdSchema = z
  .string()
  .transform((s) => s.trim().replace(/[\s-]/g, ''))
  .pipe(z.string().regex(/^sub\d{4,12}$/i))
  .transform((s) => `Sub${s.slice(3)}`);

export const emailSchema = z
  .string()
  .transform((s) => s.trim().replace(/^mailto:/i, '').replace(/^<|>$/g, ''))
  .pipe(z.email());

export function readOrderNumber(text: string): FieldResult {
  const parsed = orderNumberSchema.safeParse(text);
  if (parsed.success) return { ok: true, value: parsed.data };
  const compact = text.trim().replace(/[\s#-]/g, '');
  if (subscriptionIdSchema.safeParse(text).success) return { ok: false, hint: `${NS}orderNumber.hintLooksLikeSubscription` };
  if (emailSchema.safeParse(text).success) return { ok: false, hint: `${NS}orderNumber.hintLooksLikeEmail` };
  if (/^\d+$/.test(compact)) return { ok: false, hint: `${NS}orderNumber.hintLength` };
  return { ok: false, hint: `${NS}orderNumber.hintDigits` };
}

export function readSubscriptionId(text: string): FieldResult {
  const parsed = subscriptionIdSchema.safeParse(text);
  if (parsed.success) return { ok: true, value: parsed.data };
  const compact = text.trim().replace(/[\s-]/g, '');
  if (/^\d+$/.test(compact)) return { ok: false, hint: `${NS}subscriptionId.hintPrefix` };
  if (/^sub/i.test(compact)) return { ok: false, hint: `${NS}subscriptionId.hintDigits` };
  return { ok: false, hint: `${NS}subscriptionId.hintFormat` };
}

export function readEmail(text: string, mustDifferFrom?: string): FieldResult {
  const parsed = emailSchema.safeParse(text);
  if (!parsed.success) return { ok: false, hint: `${NS}email.hintInvalid` };
  if (mustDifferFrom && parsed.data.toLowerCase() === mustDifferFrom.toLowerCase()) {
    return { ok: false, hint: `${NS}email.hintSame` };
  }
  return { ok: true, value: parsed.data };
}
