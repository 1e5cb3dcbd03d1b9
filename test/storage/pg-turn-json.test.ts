/**
 * PostgreSQL's batch commit takes a turn's rows as JSON documents (src/storage/pg-turn-sql.ts). What
 * a text parameter took as it was must still be stored: any text, a broken emoji (a lone surrogate,
 * stored as U+FFFD as pg's UTF-8 encoding of a text stores it), backslashes and JSON look-alikes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/storage/index';
import { pgJson } from '../../src/storage/pg-turn-sql';
import { conversation, postgresHarness, turnCommit } from './harness';
import { uniqueName } from '../support';

describe('pgJson', () => {
  it.each([
    ['a lone high surrogate', 'a\uD800b', 'a\uFFFDb'],
    ['a lone low surrogate', '\uDC00', '\uFFFD'],
    ['an emoji', 'ok \uD83D\uDE00', 'ok \uD83D\uDE00'],
    ['a backslash and "ud800" as typed', '\\ud800', '\\ud800'],
    ['two backslashes and "ud800"', 'x\\\\ud800y', 'x\\\\ud800y'],
    ['a backslash before a lone surrogate', '\\\uD800', '\\\uFFFD'],
  ])('keeps %s readable', (_what, text, stored) => {
    expect(JSON.parse(pgJson([{ text }]))).toEqual([{ text: stored }]);
  });
});

describe('PostgreSQL: turns committed as JSON documents', () => {
  const harness = postgresHarness();
  let store: SqlStore;

  beforeAll(async () => {
    store = await harness.open();
  });
  afterAll(() => harness.cleanup());

  it('stores texts, snapshots and funnel values as they were, a lone surrogate as U+FFFD', async () => {
    const key = `msteams:${uniqueName('conv')}`;
    const text = 'Line 1\nTab\there "quoted" \\ back \\u0041 {"json": [1]} Пошта 😀 broken \uD83D end';
    const snapshot = { status: 'active', value: { N2: 'ask' }, context: { note: text, list: [null, true, 1.5, { deep: '\\' }] } };
    const at = '2026-03-01T10:00:00.000Z';
    await store.commitTurn(
      turnCommit(key, 1, {
        conversation: conversation(key, 1, { snapshot, parents: [{ flowId: 'provisioning-contact', flowVersion: 3, snapshot: { value: text } }] }),
        transcript: [{ at, from: 'user', text }],
        funnel: [{ at, conversationKey: key, channel: 'msteams', locale: 'uk', mode: 'self', kind: 'answer', step: 'N2', value: text }],
        activityKey: `msteams:${uniqueName('act')}`,
      }),
    );
    const stored = text.replace('\uD83D end', '\uFFFD end');
    const loaded = await store.loadConversation(key);
    expect(loaded?.snapshot).toEqual({ ...snapshot, context: { ...snapshot.context, note: stored } });
    expect(loaded?.parents).toEqual([{ flowId: 'provisioning-contact', flowVersion: 3, snapshot: { value: stored } }]);
    expect(await store.loadTranscript(key)).toEqual([{ at, from: 'user', text: stored }]);
    const { rows } = await harness.admin().query(`select value from "${harness.schema}".funnel_events where conversation_key = $1`, [key]);
    expect(rows).toEqual([{ value: stored }]);
  });

  it('stores a null snapshot as JSON null', async () => {
    const key = `msteams:${uniqueName('conv')}`;
    await store.commitTurn(turnCommit(key, 1, { conversation: conversation(key, 1, { snapshot: null }) }));
    const { rows } = await harness.admin().query(`select snapshot is null as missing, jsonb_typeof(snapshot) as type from "${harness.schema}".conversations where key = $1`, [key]);
    expect(rows).toEqual([{ missing: false, type: 'null' }]);
  });
});
