/**
 * Operator metrics (Prometheus text via prom-client) on a registry of our own, so tests and several
 * app instances in one process never share counters. Labels stay low-cardinality and free of
 * personal data: channel ids, outcome kinds, case backend names and delivery results only.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { followupMetrics, type FollowupMetrics } from './followups';
import { handoffMetrics, type HandoffMetrics } from './handoffs';
import { storageMetrics, type StorageMetrics } from './storage';

/** What the engine's `onTurn` hook reports. */
export interface TurnInfo {
  channel: string;
  outcome?: string;
  ms: number;
  duplicate: boolean;
}

/** How one attempt to deliver a case to a backend ended. */
export type CaseDeliveryResult = 'delivered' | 'retrying' | 'failed';

export interface BotMetrics extends FollowupMetrics, HandoffMetrics, StorageMetrics {
  readonly registry: Registry;
  /** Pass as the engine's `onTurn`. */
  observeTurn(info: TurnInfo): void;
  /** Called by the case outbox after each delivery attempt. */
  recordCaseDelivery(backend: string, result: CaseDeliveryResult): void;
  /** Where the pending-outbox gauge reads its value at scrape time (the cases module provides it). */
  setPendingOutboxSource(source: () => number | Promise<number>): void;
  /** Where the oldest-pending-case gauge reads its age in seconds at scrape time (the cases module). */
  setOldestPendingCaseSource(source: () => number | Promise<number>): void;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  /** Also export Node.js process metrics (CPU, memory, event loop lag). Default true. */
  processMetrics?: boolean;
  /** Prefix of every metric name. Default `pce_bot_`. */
  prefix?: string;
}

/** Turn latency buckets in seconds: a turn is a store round trip or two, a case opening a few more. */
const TURN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(opts: MetricsOptions = {}): BotMetrics {
  const prefix = opts.prefix ?? 'pce_bot_';
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });

  const turns = new Counter({
    name: `${prefix}turns_total`,
    help: 'Conversation turns handled, by channel and the outcome the conversation is at after the turn (in_progress while no outcome; duplicate for re-delivered activities; error for failed turns).',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: `${prefix}turn_duration_seconds`,
    help: 'Time to handle one turn, from receiving the inbound to the committed result, by channel.',
    labelNames: ['channel'] as const,
    buckets: TURN_BUCKETS,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: `${prefix}case_deliveries_total`,
    help: 'Attempts to deliver a support case to its backend, by backend and result.',
    labelNames: ['backend', 'result'] as const,
    registers: [registry],
  });
  let outboxSource: (() => number | Promise<number>) | undefined;
  new Gauge({
    name: `${prefix}case_outbox_pending`,
    help: 'Cases waiting in the outbox for delivery to their backend.',
    registers: [registry],
    async collect() {
      // No source yet (cases not wired): report 0 rather than a stale or missing series.
      this.set(outboxSource ? await outboxSource() : 0);
    },
  });
  let oldestPendingSource: (() => number | Promise<number>) | undefined;
  new Gauge({
    name: `${prefix}case_outbox_oldest_pending_age_seconds`,
    help: 'Seconds since the oldest case still waiting in the outbox was opened (0 when none waits); it grows while a backend is unreachable.',
    registers: [registry],
    async collect() {
      this.set(oldestPendingSource ? await oldestPendingSource() : 0);
    },
  });

  return {
    registry,
    // Follow-ups and "did this help?" (issue 23).
    ...followupMetrics(registry, prefix),
    // Talk to a person (issue 22).
    ...handoffMetrics(registry, prefix),
    // The SQLite read-ahead (issue 19).
    ...storageMetrics(registry, prefix),
    observeTurn(info) {
      const outcome = info.duplicate ? 'duplicate' : (info.outcome ?? 'in_progress');
      turns.inc({ channel: info.channel, outcome });
      if (!info.duplicate) latency.observe({ channel: info.channel }, info.ms / 1000);
    },
    recordCaseDelivery(backend, result) {
      deliveries.inc({ backend, result });
    },
    setPendingOutboxSource(source) {
      outboxSource = source;
    },
    setOldestPendingCaseSource(source) {
      oldestPendingSource = source;
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
