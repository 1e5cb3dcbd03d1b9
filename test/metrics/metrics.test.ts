import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Engine } from '../../src/engine/engine';
import type { Inbound } from '../../src/engine/types';
import { createTranslator, type Resources } from '../../src/i18n';
import { metricsExposure, metricsPlugin, startMetricsListener, type MetricsListener } from '../../src/metrics/http';
import { createMetrics, type BotMetrics } from '../../src/metrics/metrics';
import { buildServer, type App } from '../../src/server';
import { entryFlow, fixtureResources, intakeFlow } from '../engine/fixture-flows';
import { memoryStore } from '../storage/harness';
import { silentLogger } from '../support';

const translator = createTranslator(fixtureResources as unknown as Resources);
const TOKEN = 'metrics-token-0123456789';

let metrics: BotMetrics;
let app: App | undefined;
let listener: MetricsListener | undefined;

async function engineWith(m: BotMetrics): Promise<Engine> {
  return new Engine({
    store: await memoryStore(),
    flow: entryFlow,
    flows: [intakeFlow],
    translator,
    logger: silentLogger,
    actors: () => ({ openCase: fromPromise(async () => ({ reference: 'PCE-000001' })) }),
    onTurn: m.observeTurn,
  });
}

async function scrape(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/**
 * The parser flattens labelled histograms (a limitation of parse-prometheus-text-format), so a
 * histogram's per-label count is read from its `_count` series line after the text parsed cleanly.
 */
function histogramCount(text: string, name: string, labels: Record<string, string>): number | undefined {
  parsePrometheusTextFormat(text);
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}_count{`) && wanted.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = parsePrometheusTextFormat(text).find((f) => f.name === name);
  const found = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!found) return undefined;
  return Number(found.value ?? found.count);
}

async function serve(plugins = [metricsPlugin(metrics, { logger: silentLogger })]): Promise<string> {
  app = buildServer({ logger: silentLogger, maxBodyBytes: 64 * 1024, plugins });
  const { url } = await app.listen(0, '127.0.0.1');
  return url;
}

beforeEach(() => {
  metrics = createMetrics();
});

afterEach(async () => {
  await app?.close(1000);
  await listener?.close();
  app = undefined;
  listener = undefined;
});

describe('GET /metrics', () => {
  it('parses as Prometheus text and its turn counters and latency move with the turns', async () => {
    const url = await serve();
    const engine = await engineWith(metrics);
    const before = await scrape(`${url}/metrics`);
    expect(before.status).toBe(200);
    expect(before.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(before.text, 'pce_bot_turns_total', { channel: 'msteams' })).toBeUndefined();

    const talk = (conversationId: string, extra: Partial<Inbound>) =>
      engine.handle({ channel: 'msteams', conversationId, user: { id: 'u1' }, ...extra });
    await talk('a', { kind: 'greeting' });
    await talk('a', { text: 'yes', activityId: 'act-1' });
    await talk('a', { text: 'yes', activityId: 'act-1' }); // re-delivered
    await talk('b', { text: 'no' }); // hands over to the intake: no outcome of the conversation yet
    await talk('b', { text: 'The email never came' });
    await engine.handle({ channel: 'webex', conversationId: 'c', user: { id: 'u2' }, kind: 'greeting' });

    const after = await scrape(`${url}/metrics`);
    const families = parsePrometheusTextFormat(after.text);
    expect(families.find((f) => f.name === 'pce_bot_turns_total')?.type).toBe('COUNTER');
    expect(sample(after.text, 'pce_bot_turns_total', { channel: 'msteams', outcome: 'in_progress' })).toBe(2);
    expect(sample(after.text, 'pce_bot_turns_total', { channel: 'msteams', outcome: 'resolved' })).toBe(1);
    expect(sample(after.text, 'pce_bot_turns_total', { channel: 'msteams', outcome: 'case_opened' })).toBe(1);
    expect(sample(after.text, 'pce_bot_turns_total', { channel: 'msteams', outcome: 'duplicate' })).toBe(1);
    expect(sample(after.text, 'pce_bot_turns_total', { channel: 'webex', outcome: 'in_progress' })).toBe(1);
    const latency = families.find((f) => f.name === 'pce_bot_turn_duration_seconds');
    expect(latency?.type).toBe('HISTOGRAM');
    // Duplicates are answered from the store without running a turn: they are not timed.
    expect(histogramCount(after.text, 'pce_bot_turn_duration_seconds', { channel: 'msteams' })).toBe(4);
    expect(histogramCount(after.text, 'pce_bot_turn_duration_seconds', { channel: 'webex' })).toBe(1);
  });

  it('counts case deliveries by backend and result and reads the pending outbox at scrape time', async () => {
    const url = await serve();
    let pending = 3;
    metrics.setPendingOutboxSource(async () => pending);
    metrics.recordCaseDelivery('smtp', 'delivered');
    metrics.recordCaseDelivery('smtp', 'delivered');
    metrics.recordCaseDelivery('servicenow', 'retrying');
    metrics.recordCaseDelivery('servicenow', 'failed');

    const first = (await scrape(`${url}/metrics`)).text;
    expect(sample(first, 'pce_bot_case_deliveries_total', { backend: 'smtp', result: 'delivered' })).toBe(2);
    expect(sample(first, 'pce_bot_case_deliveries_total', { backend: 'servicenow', result: 'retrying' })).toBe(1);
    expect(sample(first, 'pce_bot_case_deliveries_total', { backend: 'servicenow', result: 'failed' })).toBe(1);
    expect(sample(first, 'pce_bot_case_outbox_pending')).toBe(3);

    pending = 0;
    expect(sample((await scrape(`${url}/metrics`)).text, 'pce_bot_case_outbox_pending')).toBe(0);
  });

  it('requires the bearer token on the main server when METRICS_TOKEN is set', async () => {
    const url = await serve([metricsPlugin(metrics, { token: TOKEN, logger: silentLogger })]);
    const missing = await scrape(`${url}/metrics`);
    expect(missing.status).toBe(401);
    expect(missing.text).not.toContain('pce_bot_');
    expect((await scrape(`${url}/metrics`, { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    const ok = await scrape(`${url}/metrics`, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('pce_bot_turns_total');
  });

  it('without a token answers direct loopback clients only, not proxied requests', async () => {
    const url = await serve();
    expect((await scrape(`${url}/metrics`)).status).toBe(200);
    const proxied = await scrape(`${url}/metrics`, { 'x-forwarded-for': '203.0.113.7' });
    expect(proxied.status).toBe(403);
    expect(proxied.text).not.toContain('pce_bot_');
  });

  it('with METRICS_BIND serves a separate listener and keeps /metrics off the main server', async () => {
    const exposure = metricsExposure({ METRICS_BIND: '127.0.0.1:0', METRICS_TOKEN: undefined }, metrics, silentLogger);
    expect(exposure.plugin).toBeUndefined();
    listener = await exposure.startListener!();
    const url = await serve(exposure.plugin ? [exposure.plugin] : []);

    expect((await scrape(`${url}/metrics`)).status).toBe(404);
    const separate = await scrape(listener.url);
    expect(separate.status).toBe(200);
    expect(parsePrometheusTextFormat(separate.text).some((f) => f.name === 'pce_bot_turns_total')).toBe(true);
    expect((await scrape(listener.url.replace('/metrics', '/healthz'))).status).toBe(404);
  });

  it('a separate listener still checks the token when one is set', async () => {
    listener = await startMetricsListener(metrics, '127.0.0.1:0', { token: TOKEN, logger: silentLogger });
    expect((await scrape(listener.url)).status).toBe(401);
    expect((await scrape(listener.url, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('keeps counters of two app instances in one process apart', async () => {
    const other = createMetrics({ processMetrics: false });
    metrics.observeTurn({ channel: 'terminal', ms: 3, duplicate: false });
    const text = (await other.render()).body;
    expect(sample(text, 'pce_bot_turns_total', { channel: 'terminal' })).toBeUndefined();
  });
});

describe('failed turns', () => {
  it('are counted with outcome "error" and the error still reaches the channel', async () => {
    const m = createMetrics({ processMetrics: false });
    const store = await memoryStore();
    store.commitTurn = async () => {
      throw new Error('database unavailable');
    };
    const engine = new Engine({ store, flow: entryFlow, translator, logger: silentLogger, onTurn: m.observeTurn });
    await expect(engine.handle({ channel: 'webex', conversationId: 'x', user: { id: 'u' }, kind: 'greeting' })).rejects.toThrow('database unavailable');
    const text = (await m.render()).body;
    expect(sample(text, 'pce_bot_turns_total', { channel: 'webex', outcome: 'error' })).toBe(1);
    expect(histogramCount(text, 'pce_bot_turn_duration_seconds', { channel: 'webex' })).toBe(1);
  });
});
