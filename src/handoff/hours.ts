/**
 * When support engineers take hand-offs (HANDOFF_HOURS): `Mon-Fri 09:00-18:00 Europe/Kyiv`, or
 * several windows, `Mon-Fri 09:00-18:00, Sat 10:00-14:00 Europe/Kyiv`. The time zone is an IANA name
 * read with Intl (so daylight saving time is the platform's business, no dependency); a window ends
 * before its end time, and `00:00-24:00` is the whole day. Unset: always open.
 */

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof DAYS)[number];

interface Window {
  days: ReadonlySet<number>;
  /** Minutes since local midnight: from (inclusive) to (exclusive). */
  from: number;
  to: number;
}

export interface OpeningHours {
  readonly timeZone: string;
  readonly windows: readonly Window[];
}

/** When people are back: the day (0 today, 1 tomorrow, …), its weekday and the local time. */
export interface NextOpening {
  inDays: number;
  weekday: Weekday;
  time: string;
  timeZone: string;
}

export class OpeningHoursError extends Error {
  constructor(spec: string, why: string) {
    super(`HANDOFF_HOURS "${spec}": ${why}. Example: Mon-Fri 09:00-18:00 Europe/Kyiv`);
    this.name = 'OpeningHoursError';
  }
}

function dayIndex(spec: string, name: string): number {
  const i = DAYS.indexOf(name.slice(0, 3).toLowerCase() as Weekday);
  if (i < 0 || name.length < 3) throw new OpeningHoursError(spec, `"${name}" is not a weekday (Mon, Tue, …)`);
  return i;
}

function days(spec: string, text: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [a, b] = part.split('-');
    const from = dayIndex(spec, a!);
    if (b === undefined) {
      out.add(from);
      continue;
    }
    // Fri-Mon wraps over the weekend.
    for (let d = from, to = dayIndex(spec, b); ; d = (d + 1) % 7) {
      out.add(d);
      if (d === to) break;
    }
  }
  return out;
}

function minutes(spec: string, hhmm: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  const value = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || Number(m[2]) > 59 || !(value <= 24 * 60)) throw new OpeningHoursError(spec, `"${hhmm}" is not a time (HH:MM)`);
  return value;
}

/** Reads HANDOFF_HOURS; throws `OpeningHoursError` saying what is wrong. */
export function parseOpeningHours(spec: string): OpeningHours {
  const text = spec.trim();
  const zone = /\s(\S+)$/.exec(text);
  if (!zone) throw new OpeningHoursError(spec, 'the time zone is missing at the end');
  const timeZone = zone[1]!;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new OpeningHoursError(spec, `"${timeZone}" is not a time zone Intl knows (use an IANA name such as Europe/Kyiv)`);
  }
  const windows: Window[] = [];
  const pattern = /([A-Za-z][A-Za-z,\s-]*?)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})/g;
  const body = text.slice(0, zone.index).trim();
  let consumed = 0;
  for (const m of body.matchAll(pattern)) {
    if (body.slice(consumed, m.index).replace(/[\s,;]/g, '')) throw new OpeningHoursError(spec, `"${body.slice(consumed, m.index).trim()}" is not understood`);
    const from = minutes(spec, m[2]!);
    const to = minutes(spec, m[3]!);
    if (to <= from) throw new OpeningHoursError(spec, `${m[2]}-${m[3]} ends before it starts`);
    windows.push({ days: days(spec, m[1]!.replace(/^[\s,;]+/, '')), from, to });
    consumed = m.index + m[0].length;
  }
  if (!windows.length || body.slice(consumed).replace(/[\s,;]/g, '')) throw new OpeningHoursError(spec, 'expected days and hours such as Mon-Fri 09:00-18:00');
  return { timeZone, windows };
}

/** The weekday (0 = Sunday) and minutes since midnight at `at` in `timeZone`. */
function localTime(at: Date, timeZone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { day: dayIndex('', get('weekday')), minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

export function isOpen(hours: OpeningHours | undefined, at: Date): boolean {
  if (!hours) return true;
  const { day, minute } = localTime(at, hours.timeZone);
  return hours.windows.some((w) => w.days.has(day) && minute >= w.from && minute < w.to);
}

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** The next time a window opens after `at` (within a week), or undefined when none ever does. */
export function nextOpening(hours: OpeningHours, at: Date): NextOpening | undefined {
  const now = localTime(at, hours.timeZone);
  for (let inDays = 0; inDays <= 7; inDays++) {
    const day = (now.day + inDays) % 7;
    const starts = hours.windows
      .filter((w) => w.days.has(day) && (inDays > 0 || w.from > now.minute))
      .map((w) => w.from)
      .sort((a, b) => a - b);
    if (starts.length) return { inDays, weekday: DAYS[day]!, time: hhmm(starts[0]!), timeZone: hours.timeZone };
  }
  return undefined;
}
