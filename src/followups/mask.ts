/**
 * A satisfaction comment as it is stored: without the person's email addresses, phone numbers or
 * names. Emails and phone numbers are found by their shape; names by what the channel told us the
 * person is called and by "my name is …" / "мене звати …". What is left is for reading the ratings,
 * not for reaching anyone.
 */
const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}/gu;
/** Seven or more digits, with the spaces, dots, dashes and brackets people put between them. */
const PHONE = /\+?\d[\d\s().-]{5,}\d/g;
const NAMED = /((?:my name is|i am|i'm|this is|мене звати|моє ім['’]я|я\s*[-—]|з повагою,?|regards,?|thanks,?|дякую,?)\s+)(\p{Lu}[\p{L}'’-]+(?:\s+\p{Lu}[\p{L}'’-]+)?)/giu;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function maskComment(text: string, person: { name?: string } = {}): string {
  let out = text.replace(EMAIL, '[email]').replace(PHONE, (m) => ((m.match(/\d/g)?.length ?? 0) >= 7 ? '[phone]' : m));
  const words = (person.name ?? '').split(/\s+/).filter((w) => w.length >= 2);
  for (const w of words) out = out.replace(new RegExp(`(?<!\\p{L})${escape(w)}(?!\\p{L})`, 'giu'), '[name]');
  return out.replace(NAMED, (_, lead: string) => `${lead}[name]`).trim();
}
