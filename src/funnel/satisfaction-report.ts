/**
 * The follow-ups and "did this help?" part of the funnel report (issue 23): ratings per ending,
 * language, channel and mode (with how many left a comment), what became of the follow-ups accepted in
 * the window, and the share of the guide's endings a follow-up later confirmed. Pure: facts in,
 * numbers out. No personal data comes in.
 */

export interface RatingFacts {
  ending: string;
  locale: string;
  channel: string;
  mode: string;
  rating: 'up' | 'down';
  commented: boolean;
}

export interface Ratings {
  up: number;
  down: number;
  /** up / (up + down), or null without ratings. */
  share: number | null;
}

export interface FollowupCounts {
  accepted: number;
  pending: number;
  fired: number;
  cancelled: number;
  dropped: number;
  arrived: number;
  notArrived: number;
}

export interface SatisfactionReport {
  total: Ratings & { comments: number };
  byEnding: Record<string, Ratings>;
  byLocale: Record<string, Ratings>;
  byChannel: Record<string, Ratings>;
  byMode: Record<string, Ratings>;
  followups: FollowupCounts;
  /** The guide's endings solved without a case in the window, those a follow-up confirmed, and their share. */
  endings: number;
  confirmedByFollowup: number;
  confirmedShare: number | null;
}

const ratio = (n: number, of: number): number | null => (of > 0 ? n / of : null);

function tally(list: readonly RatingFacts[]): Ratings {
  const up = list.filter((r) => r.rating === 'up').length;
  const down = list.length - up;
  return { up, down, share: ratio(up, list.length) };
}

function by(list: readonly RatingFacts[], key: (r: RatingFacts) => string): Record<string, Ratings> {
  const groups = new Map<string, RatingFacts[]>();
  for (const r of list) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  return Object.fromEntries([...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, tally(v)]));
}

export function buildSatisfactionReport(
  ratings: readonly RatingFacts[],
  followups: { status: string; answer: string | null }[],
  endings: { reached: number; confirmedByFollowup: number },
): SatisfactionReport {
  const count = (status: string) => followups.filter((f) => f.status === status).length;
  return {
    total: { ...tally(ratings), comments: ratings.filter((r) => r.commented).length },
    byEnding: by(ratings, (r) => r.ending),
    byLocale: by(ratings, (r) => r.locale),
    byChannel: by(ratings, (r) => r.channel),
    byMode: by(ratings, (r) => r.mode),
    followups: {
      accepted: followups.length,
      pending: count('pending'),
      fired: count('fired'),
      cancelled: count('cancelled'),
      dropped: count('dropped'),
      arrived: followups.filter((f) => f.answer === 'arrived').length,
      notArrived: followups.filter((f) => f.answer === 'not_arrived').length,
    },
    endings: endings.reached,
    confirmedByFollowup: endings.confirmedByFollowup,
    confirmedShare: ratio(endings.confirmedByFollowup, endings.reached),
  };
}
