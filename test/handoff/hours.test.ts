/** HANDOFF_HOURS read with Intl time zones: open or not at an instant, and when people are back. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { isOpen, nextOpening, parseOpeningHours } from '../../src/handoff/hours';

const kyiv = parseOpeningHours('Mon-Fri 09:00-18:00 Europe/Kyiv');

describe('opening hours', () => {
  it('is open on weekdays in the zone’s own time, summer and winter alike', () => {
    expect(isOpen(kyiv, new Date('2026-12-07T07:00:00Z'))).toBe(true); // Monday 09:00 in Kyiv (UTC+2)
    expect(isOpen(kyiv, new Date('2026-12-07T06:59:00Z'))).toBe(false);
    expect(isOpen(kyiv, new Date('2026-07-06T06:00:00Z'))).toBe(true); // Monday 09:00 in Kyiv (UTC+3)
    expect(isOpen(kyiv, new Date('2026-12-07T16:00:00Z'))).toBe(false); // 18:00: closed
    expect(isOpen(kyiv, new Date('2026-12-12T10:00:00Z'))).toBe(false); // Saturday
    expect(isOpen(undefined, new Date('2026-12-12T10:00:00Z'))).toBe(true);
  });

  it('says when people are back: later today, tomorrow, or on a weekday', () => {
    expect(nextOpening(kyiv, new Date('2026-12-07T05:00:00Z'))).toEqual({ inDays: 0, weekday: 'mon', time: '09:00', timeZone: 'Europe/Kyiv' });
    expect(nextOpening(kyiv, new Date('2026-12-07T17:00:00Z'))).toMatchObject({ inDays: 1, weekday: 'tue' });
    expect(nextOpening(kyiv, new Date('2026-12-11T17:00:00Z'))).toMatchObject({ inDays: 3, weekday: 'mon' });
  });

  it('reads several windows and weekends that wrap', () => {
    const hours = parseOpeningHours('Mon-Fri 09:00-18:00, Sat 10:00-14:00 UTC');
    expect(isOpen(hours, new Date('2026-12-12T11:00:00Z'))).toBe(true);
    expect(isOpen(parseOpeningHours('Fri-Mon 00:00-24:00 UTC'), new Date('2026-12-13T23:30:00Z'))).toBe(true);
  });

  it('refuses what it cannot read at start-up, saying why', () => {
    expect(() => loadConfig({ HANDOFF_HOURS: 'Mon-Fri 09:00-18:00 Mars/Olympus' })).toThrow(/HANDOFF_HOURS.*not a time zone/);
    expect(() => loadConfig({ HANDOFF_HOURS: 'weekdays 9-6 Europe/Kyiv' })).toThrow(/HANDOFF_HOURS/);
    expect(() => loadConfig({ HANDOFF_HOURS: 'Mon-Fri 18:00-09:00 Europe/Kyiv' })).toThrow(/ends before it starts/);
    expect(loadConfig({}).HANDOFF_WAIT_MINUTES).toBe(10);
  });
});
