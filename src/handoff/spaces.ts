/**
 * Where support engineers take hand-offs: a Webex space, a Teams channel, or both. Each channel
 * implements `ExpertSpace` next to its own code (src/channels/webex/handoff-space.ts,
 * src/channels/botframework/handoff-space.ts); the worker (./worker.ts) calls them to post a request,
 * show what became of it, and pass the person's messages on. Strings for engineers are English.
 */
import type { AttachmentRef } from '../../dialogs/flow';
import type { Cards, HandoffRecord } from './repository';

export type SpaceName = keyof Cards;

/** What became of a request, as its card shows it. */
export type CardState = { state: 'taken' } | { state: 'ended'; by: 'person' | 'expert' } | { state: 'expired' } | { state: 'cancelled' };

export interface ExpertSpace {
  readonly name: SpaceName;
  /** Whether requests can be posted here now (configured, or a channel chosen). */
  ready(): Promise<boolean>;
  /** Posts the request card; returns where it is (kept in `cards`). */
  post(h: HandoffRecord): Promise<NonNullable<Cards[SpaceName]>>;
  /** Shows what became of the request; returns the card as it is now (a new thread root, say), if it changed. */
  update(h: HandoffRecord, change: CardState): Promise<NonNullable<Cards[SpaceName]> | undefined>;
  /** The person's message, in the chat's thread (only the space the request was taken in). */
  relay(h: HandoffRecord, text: string, files: AttachmentRef[]): Promise<void>;
}

export class ExpertSpaces {
  private readonly spaces = new Map<SpaceName, ExpertSpace>();

  add(space: ExpertSpace): void {
    this.spaces.set(space.name, space);
  }

  get(name: string | undefined): ExpertSpace | undefined {
    return name ? this.spaces.get(name as SpaceName) : undefined;
  }

  /** The spaces requests can be posted to now. */
  async ready(): Promise<ExpertSpace[]> {
    const out: ExpertSpace[] = [];
    for (const space of this.spaces.values()) if (await space.ready()) out.push(space);
    return out;
  }
}
