/**
 * Issue 14, item 5: the card a press replaces is found by its key, recorded when the card was
 * stored, not by reading the conversation's history: a press after a long history reads none of it
 * and still swaps the right card (the latest one asking that question) in place. Over real HTTP with
 * the SQL activity log on SQLite and PostgreSQL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createDirectLineBridge } from '../../../src/channels/botframework/directline-bridge';
import { createWebChatPlugins } from '../../../src/channels/directline';
import type { ActivityLog } from '../../../src/channels/directline/activity-log';
import { SqlActivityLog } from '../../../src/channels/directline/sql-activity-log';
import { loadConfig } from '../../../src/config';
import type { Inbound, TurnResult } from '../../../src/engine/types';
import { createTranslator } from '../../../src/i18n';
import { buildServer, type App } from '../../../src/server';
import { postgresHarness, sqliteHarness, type StoreHarness } from '../../storage/harness';
import { DirectLineTestClient, type ActivitySet } from './harness';
import { silentLogger } from '../../support';

const translator = createTranslator();

/** A summary card for the greeting and for "again"; a press answers it; anything else gets plain text. */
async function handle(inbound: Inbound): Promise<TurnResult> {
  const base: TurnResult = { duplicate: false, locale: 'en', conversationKey: `directline:${inbound.conversationId}`, messages: [], step: 'chat' };
  const card = { paragraphs: ['Check it'], choices: [{ id: 'confirm', label: 'Confirm' }], links: [], facts: [{ label: 'Order', value: '104857391' }], step: 'summary' };
  if (inbound.kind === 'greeting' || inbound.text === 'again') return { ...base, step: 'summary', messages: [card] };
  if (inbound.choice) return { ...base, messages: [{ paragraphs: ['Opened'], choices: [], links: [], facts: [] }], answered: { step: 'summary', choiceId: 'confirm', label: 'Confirm' } };
  return { ...base, messages: [{ paragraphs: [`noted: ${inbound.text ?? ''}`], choices: [], links: [], facts: [] }] };
}

describe.each([
  ['SQLite', sqliteHarness],
  ['PostgreSQL', postgresHarness],
] as const)('pressed cards found by key on %s', (_name, makeHarness) => {
  let harness: StoreHarness;
  let app: App | undefined;

  afterEach(async () => {
    await app?.close(2_000);
    app = undefined;
    await harness.cleanup();
  });

  it('swaps the latest card asking that question, after a long history, without reading the history', async () => {
    harness = makeHarness();
    const log = new SqlActivityLog(await harness.open());
    const reads: number[] = [];
    const counted: ActivityLog = Object.assign(Object.create(log) as ActivityLog, {
      since: (id: string, after: number, limit: number) => {
        reads.push(after);
        return log.since(id, after, limit);
      },
    });
    const config = loadConfig({ WEBCHAT_UPLOAD_DIR: '/nonexistent-uploads-not-used' });
    const bridge = createDirectLineBridge({ engine: { handle }, translator, logger: silentLogger });
    app = buildServer({ logger: silentLogger, maxBodyBytes: 256 * 1024, plugins: createWebChatPlugins({ config, bridge, translator, logger: silentLogger, log: counted }) });
    const dl = new DirectLineTestClient((await app.listen(0)).url);

    const c = await dl.startOk();
    const [first] = (await dl.getOk(c)).activities;
    for (let i = 0; i < 60; i += 1) await dl.post(c, { type: 'message', text: `line ${i}`, channelData: { clientActivityID: `h-${i}` } });
    await dl.post(c, { type: 'message', text: 'again', channelData: { clientActivityID: 'again' } });
    // All of it, page by page (an answer carries at most 100).
    const before: ActivitySet = { activities: [], watermark: '' };
    for (let page = await dl.getOk(c); page.activities.length; page = await dl.getOk(c, before.watermark)) {
      before.activities.push(...page.activities);
      before.watermark = page.watermark;
    }
    const latest = before.activities.filter((a) => a.attachments).at(-1)!;
    expect(latest.id).not.toBe(first!.id);
    const submit = (latest.attachments as Array<{ content: { actions: Array<{ data: unknown }> } }>)[0]!.content.actions[0]!.data;

    reads.length = 0;
    const res = await dl.post(c, { type: 'message', value: submit, channelData: { clientActivityID: 'press' } });
    expect(res.status).toBe(200);
    expect(reads).toEqual([]);

    const [echo, replaced, opened] = (await dl.getOk(c, before.watermark)).activities;
    expect(echo!.from.role).toBe('user');
    expect(replaced).toMatchObject({ id: latest.id, timestamp: latest.timestamp });
    const content = (replaced!.attachments as Array<{ content: { actions: unknown[] } }>)[0]!.content;
    expect(content.actions).toEqual([]);
    expect(opened!.text).toBe('Opened');
  });
});
