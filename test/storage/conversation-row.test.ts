/**
 * Stored rows read back by hand-written checks (no zod on the turn's path): the shapes both dialects
 * return, the polite defaults for what cannot be read, and errors for rows that are not rows.
 */
import { describe, expect, it } from 'vitest';
import { toConversation, toLocale, toTranscriptEntry } from '../../src/storage/conversation-row';
import { StorageError } from '../../src/storage/errors';
import { toIso } from '../../src/storage/schema';
import { captureLogs, silentLogger } from '../support/logs';

const parents = [{ flowId: 'provisioning-contact', flowVersion: 3, snapshot: { status: 'active', value: 'N9' } }];
const snapshot = { status: 'active', value: 'N1', context: { a: [1, 'два'] } };

/** A conversation row as SQLite returns it: JSON and timestamps as text. */
const sqliteRow = {
  key: 'msteams:c1',
  channel: 'msteams',
  flow_id: 'support-case',
  flow_version: 2,
  snapshot: JSON.stringify(snapshot),
  parents: JSON.stringify(parents),
  locale: 'uk',
  turn: 7,
  user_id: 'u1',
  created_at: '2026-12-01T10:00:00.000Z',
  updated_at: '2026-12-01T10:05:30.125Z',
  recent_activities: 'a1\na2',
};

const expected = {
  key: 'msteams:c1',
  channel: 'msteams',
  flowId: 'support-case',
  flowVersion: 2,
  snapshot,
  parents,
  locale: 'uk',
  turn: 7,
  userId: 'u1',
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:05:30.125Z',
};

describe('toConversation', () => {
  it('reads a SQLite row (JSON and timestamps as text)', () => {
    expect(toConversation('msteams:c1', sqliteRow, silentLogger)).toEqual(expected);
  });

  it('reads a PostgreSQL row (parsed JSON, Date timestamps, int8 as text)', () => {
    const row = { ...sqliteRow, snapshot, parents, turn: '7', created_at: new Date(expected.createdAt), updated_at: new Date(expected.updatedAt) };
    expect(toConversation('msteams:c1', row, silentLogger)).toEqual(expected);
  });

  it('keeps only the fields of a parent flow', () => {
    const row = { ...sqliteRow, parents: JSON.stringify([{ ...parents[0], extra: 'dropped' }]) };
    expect(toConversation('msteams:c1', row, silentLogger).parents).toEqual(parents);
  });

  it.each([
    ['a locale that is not ours', { locale: 'de' }, { locale: 'en' }],
    ['parents that are not a list', { parents: '{"flowId":"x"}' }, { parents: [] }],
    ['a parent without a whole version', { parents: JSON.stringify([{ flowId: 'x', flowVersion: 1.5, snapshot: null }]) }, { parents: [] }],
    ['unreadable parents', { parents: '[{' }, { parents: [] }],
  ])('uses a default for %s, and says so in the log', (_what, change, outcome) => {
    const logs = captureLogs('warn');
    const conversation = toConversation('msteams:c1', { ...sqliteRow, ...change }, logs.logger);
    expect(conversation).toEqual({ ...expected, ...outcome });
    expect(logs.lines).toEqual([expect.objectContaining({ conversation: 'msteams:c1', msg: expect.stringContaining('invalid locale or parents') })]);
  });

  it('turns an unreadable snapshot into null (the engine restarts the conversation politely)', () => {
    expect(toConversation('msteams:c1', { ...sqliteRow, snapshot: '{"status":' }, silentLogger).snapshot).toBeNull();
  });

  it.each([
    ['a missing key', { key: undefined }],
    ['a numeric channel', { channel: 5 }],
    ['a fractional turn', { turn: 1.5 }],
    ['a turn that is no number', { turn: 'seven' }],
    ['a timestamp that is no date', { created_at: 'yesterday' }],
    ['a timestamp of the wrong type', { updated_at: 1733000000000 }],
  ])('refuses a row with %s', (_what, change) => {
    expect(() => toConversation('msteams:c1', { ...sqliteRow, ...change }, silentLogger)).toThrow();
  });

  it('refuses what is not a row', () => {
    expect(() => toConversation('msteams:c1', null, silentLogger)).toThrow(StorageError);
  });
});

describe('toTranscriptEntry and toLocale', () => {
  it('reads an entry from either dialect', () => {
    expect(toTranscriptEntry({ at: '2026-12-01T10:00:00.000Z', sender: 'bot', text: 'Hi' })).toEqual({ at: '2026-12-01T10:00:00.000Z', from: 'bot', text: 'Hi' });
    expect(toTranscriptEntry({ at: new Date('2026-12-01T10:00:00.000Z'), sender: 'user', text: 'N1' })).toEqual({ at: '2026-12-01T10:00:00.000Z', from: 'user', text: 'N1' });
  });

  it('refuses an entry from someone unknown', () => {
    expect(() => toTranscriptEntry({ at: '2026-12-01T10:00:00.000Z', sender: 'agent', text: 'Hi' })).toThrow(StorageError);
  });

  it('knows only our languages', () => {
    expect([toLocale('en'), toLocale('uk'), toLocale('de'), toLocale(undefined), toLocale(null)]).toEqual(['en', 'uk', undefined, undefined, undefined]);
  });
});

describe('toIso', () => {
  it('returns what toISOString writes as it is, and normalises anything else through a Date', () => {
    for (let t = Date.UTC(2023, 11, 25); t < Date.UTC(2024, 2, 5); t += 7 * 3600_000 + 123) {
      const iso = new Date(t).toISOString();
      expect(toIso(iso)).toBe(iso);
      expect(toIso(new Date(t))).toBe(iso);
    }
    expect(toIso('2024-02-30T00:00:00.000Z')).toBe('2024-03-01T00:00:00.000Z');
    expect(toIso('2026-12-01 10:00:00+02')).toBe('2026-12-01T08:00:00.000Z');
    expect(toIso('2026-12-01T10:00:00Z')).toBe('2026-12-01T10:00:00.000Z');
    expect(() => toIso('2026-13-01T10:00:00.000Z')).toThrow(RangeError);
  });
});
