/**
 * Follow-ups and "did this help?" for operators (issue 23): follow-ups by what became of them, and
 * ratings by rating and channel. No personal data: event names, ratings and channel ids only.
 */
import { Counter, type Registry } from 'prom-client';

/** What became of a follow-up: accepted at an ending, asked, dropped (unreachable), cancelled, answered. */
export type FollowupEvent = 'accepted' | 'fired' | 'dropped' | 'cancelled' | 'arrived' | 'not_arrived';

export interface FollowupMetrics {
  recordFollowup(event: FollowupEvent): void;
  recordRating(rating: 'up' | 'down', channel: string): void;
}

export function followupMetrics(registry: Registry, prefix: string): FollowupMetrics {
  const followups = new Counter({
    name: `${prefix}followups_total`,
    help: 'Follow-ups ("check back with me tomorrow") by event: accepted, fired, dropped (conversation unreachable), cancelled, arrived / not_arrived (the answer).',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const ratings = new Counter({
    name: `${prefix}satisfaction_ratings_total`,
    help: '"Did this help?" answers at endings, by rating (up, down) and channel.',
    labelNames: ['rating', 'channel'] as const,
    registers: [registry],
  });
  return {
    recordFollowup: (event) => followups.inc({ event }),
    recordRating: (rating, channel) => ratings.inc({ rating, channel }),
  };
}
