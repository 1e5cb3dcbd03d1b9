import { describe, expect, it } from 'vitest';
import { buildReport, median } from '../../src/funnel/report';
import type { FunnelEvent } from '../../src/storage/store';

const opts = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z'), now: new Date('2026-11-20T12:00:00Z'), idleMs: 30 * 60_000 };

/** A run of one conversation: `[kind, step, value?]` at 09:00, one turn per `turn`. */
function run(key: string, items: [FunnelEvent['kind'], string, string?][], at = '2026-11-20T09:00:00.000Z'): FunnelEvent[] {
  return items.map(([kind, step, value]) => ({ at, conversationKey: key, channel: 'msteams', locale: 'en', mode: 'self', kind, step, ...(value ? { value } : {}) }));
}

describe('funnel report rules', () => {
  it('takes the middle of an odd list and the mean of the two middles of an even one', () => {
    expect(median([])).toBeNull();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('tells a spam-check resolution from an edit one by the last answered step when the final step is unknown', () => {
    const events = [
      ...run('a', [['started', 'ask'], ['turn', 'ask'], ['answer', 'spamFolder', 'found'], ['step_entered', 'fine'], ['outcome', 'fine', 'resolved'], ['turn', 'fine']]),
      ...run('b', [['started', 'ask'], ['turn', 'ask'], ['answer', 'verify', 'updated'], ['step_entered', 'fine'], ['outcome', 'fine', 'resolved'], ['turn', 'fine']]),
    ];
    const r = buildReport(events, opts);
    expect(r.total.endings.resolved_spam_check).toBe(1);
    expect(r.total.endings.resolved_edit).toBe(1);
  });

  it('counts a needs-case ending with no case intake after it as handed to support, and unknown outcomes as other', () => {
    const events = [
      ...run('a', [['started', 'ask'], ['turn', 'ask'], ['step_entered', 'needsCase'], ['outcome', 'needsCase', 'needs_case'], ['turn', 'needsCase']]),
      ...run('b', [['started', 'ask'], ['step_entered', 'weird'], ['outcome', 'weird', 'something_new'], ['turn', 'weird']]),
    ];
    const r = buildReport(events, opts);
    expect(r.total.endings.needs_case).toBe(1);
    expect(r.total.endings.other).toBe(1);
    expect(r.total.deflected).toBe(0);
  });

  it('ignores the tail of a run that started before the window and runs that start after it', () => {
    const events = [
      ...run('old', [['turn', 'ask'], ['step_entered', 'done'], ['outcome', 'done', 'resolved']], '2026-11-20T08:00:00.000Z'),
      ...run('late', [['started', 'ask'], ['turn', 'ask']], '2026-11-21T00:00:00.000Z'),
    ];
    expect(buildReport(events, opts).total.conversations).toBe(0);
  });
});
