/**
 * What the intake accepts for each field, as zod schemas that normalise the value and, when it is
 * not acceptable, name the specific hint (an i18n key) the person is re-asked with.
 */
import { z } from 'zod';

/** Result of reading one typed answer: the normalised value, or the hint to re-ask with. */
export type FieldResult = { ok: true; value: string } | { ok: false; hint: string };

const NS = 'support-case:';

/**
 * CCW sales order numbers and web order numbers are all digits; people add "SO", "#", "№", a label
 * ("order number:", "номер замовлення") and group the digits with spaces, dashes or dots.
 */
export const ORDER_DIGITS = { min: 6, max: 12 } as const;
/** A label word before the number; "№" reads as "No" once NFKC-normalised. */
const ORDER_LABEL = /^(?:sales\s*order|web\s*order|order|so|wo|number|no|nr|id|номер|замовлення|на|продаж|веб|sales|web)(?!\p{L})/iu;
const SEPARATORS = /[\s\-\u2010-\u2015\u2212.:#]+/gu;

function stripOrderLabels(text: string): string {
  let s = text.normalize('NFKC').trim();
  for (;;) {
    const rest = s.replace(/^[\s\-\u2010-\u2015\u2212.:#,]+/u, '');
    const label = ORDER_LABEL.exec(rest);
    if (!label) return rest;
    s = rest.slice(label[0].length);
  }
}

export const orderNumberSchema = z
  .string()
  .transform((s) => stripOrderLabels(s).replace(SEPARATORS, ''))
  .pipe(z.string().regex(new RegExp(`^\\d{${ORDER_DIGITS.min},${ORDER_DIGITS.max}}$`)));

/** Subscription ids look like `Sub123456`; stored with the canonical `Sub` prefix. */
export const subscriptionIdSchema = z
  .string()
  .transform((s) => s.normalize('NFKC').trim().replace(/^(?:subscription\s*(?:id)?|ідентифікатор\s+підписки|підписка|id)\s*[:#]?\s*(?=sub)/iu, ''))
  .transform((s) => s.replace(/[\s\-\u2010-\u2015\u2212]/gu, ''))
  .pipe(z.string().regex(/^sub\d{4,12}$/i))
  .transform((s) => `Sub${s.slice(3)}`);

/**
 * An address as people type it, internationalised ones too (`олена@партнер.укр`, `user@bücher.example`):
 * zod's `email()` takes ASCII only. One @, no spaces, a local part, and a domain of at least two
 * labels of letters, digits and inner hyphens, the last one letters (or an `xn--` label).
 */
const LOCAL_PART = /^[^\s@<>()[\]\\,;:"]+$/u;
const DOMAIN_LABEL = /^[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?$/u;
const TOP_LABEL = /^(?:\p{L}[\p{L}\p{M}]+|xn--[a-z0-9-]+)$/iu;

export function isEmailAddress(text: string): boolean {
  const at = text.indexOf('@');
  if (at <= 0 || at !== text.lastIndexOf('@')) return false;
  const local = text.slice(0, at);
  const labels = text.slice(at + 1).split('.');
  if (!LOCAL_PART.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  return labels.length >= 2 && labels.every((l) => DOMAIN_LABEL.test(l)) && TOP_LABEL.test(labels[labels.length - 1]!);
}

export const emailSchema = z
  .string()
  .transform((s) =>
    s
      .normalize('NFC')
      .trim()
      .replace(/^mailto:/i, '')
      .replace(/^<|>$/g, '')
      // The end of a sentence is not part of the address: "it's olena@partner.example."
      .replace(/[.,;!]+$/u, ''),
  )
  .refine(isEmailAddress);

export function readOrderNumber(text: string): FieldResult {
  const parsed = orderNumberSchema.safeParse(text);
  if (parsed.success) return { ok: true, value: parsed.data };
  const compact = stripOrderLabels(text).replace(SEPARATORS, '');
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
