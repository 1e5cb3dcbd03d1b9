/**
 * Talk to a person for operators (issue 22): hand-offs by what became of them, how long people
 * waited for an engineer, and how many said a chat solved their problem. No personal data: event
 * names only.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** requested; taken; abandoned (nobody took it in time, or the person withdrew it); ended. */
export type HandoffEvent = 'requested' | 'taken' | 'abandoned' | 'ended';

export interface HandoffMetrics {
  recordHandoff(event: HandoffEvent): void;
  /** Seconds from the request to the engineer's "Take it". */
  observeHandoffWait(seconds: number): void;
  /** Where the resolved-by-a-person count is read at scrape time (the funnel's outcomes, exact across instances). */
  setHandoffResolvedSource(source: () => Promise<number>): void;
}

/** Waits in seconds: from moments to the default limit (10 minutes) and beyond. */
const WAIT_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 900, 1800];

export function handoffMetrics(registry: Registry, prefix: string): HandoffMetrics {
  const handoffs = new Counter({
    name: `${prefix}handoffs_total`,
    help: 'Hand-offs to a support engineer by event: requested, taken, abandoned (nobody took it in time, or withdrawn), ended.',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const wait = new Histogram({
    name: `${prefix}handoff_wait_seconds`,
    help: 'Time people waited from asking for a person until an engineer took the request.',
    buckets: WAIT_BUCKETS,
    registers: [registry],
  });
  let resolvedSource: (() => Promise<number>) | undefined;
  new Gauge({
    name: `${prefix}handoffs_resolved`,
    help: 'Chats with a support engineer after which the person said the problem was solved (all time, from the funnel).',
    registers: [registry],
    async collect() {
      this.set(resolvedSource ? await resolvedSource() : 0);
    },
  });
  return {
    recordHandoff: (event) => handoffs.inc({ event }),
    observeHandoffWait: (seconds) => wait.observe(seconds),
    setHandoffResolvedSource: (source) => void (resolvedSource = source),
  };
}
