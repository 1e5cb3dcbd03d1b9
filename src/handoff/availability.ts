/**
 * May a person be asked for now? Off when no expert space is ready (no Webex space configured, no
 * Teams channel chosen): then nothing of the feature shows, and people get cases as before. Else
 * open or closed by HANDOFF_HOURS, and when closed, when people are back.
 */
import type { Line } from '../../dialogs/flow';
import type { BackAt } from '../../dialogs/handoff/steps';
import { isOpen, nextOpening, type OpeningHours } from './hours';
import type { ExpertSpaces } from './spaces';

/** `back`: the line the interceptor says; `at`: the same for the flow, which builds its own sentence. */
export type Availability = { state: 'off' } | { state: 'open' } | { state: 'closed'; back?: Line; at?: BackAt };

export class HandoffAvailability {
  constructor(
    private readonly deps: { spaces: ExpertSpaces; hours?: OpeningHours; clock: () => Date },
  ) {}

  async now(): Promise<Availability> {
    if (!(await this.deps.spaces.ready()).length) return { state: 'off' };
    const { hours, clock } = this.deps;
    const at = clock();
    if (isOpen(hours, at)) return { state: 'open' };
    const next = hours && nextOpening(hours, at);
    if (!next) return { state: 'closed' };
    const when = next.inDays === 0 ? 'today' : next.inDays === 1 ? 'tomorrow' : next.weekday;
    const backAt: BackAt = { when, time: next.time, zone: next.timeZone };
    return { state: 'closed', back: { key: `handoff:when.${when}`, params: { time: next.time, zone: next.timeZone } }, at: backAt };
  }
}
