/**
 * The stored conversations of the scale phase, as the walker knows them, so that a returning person
 * can be sent to any of them (issue 19): the conversations the bot served on this store (the
 * templates, and the new conversations of earlier rounds), and the copies `./seed.ts` made of them
 * (`bench-<run>-c<copy>-<n>`, identical rows, so a copy's last card is its template's at the time of
 * the copy). A pick is uniform over all of them; copies are never listed one by one, so a million
 * costs nothing here. What a returning turn changes is remembered for that conversation only.
 */
import { keepForLater, type ReplyReading } from './reading';

export interface StoredPick {
  id: string;
  userId: string;
  /** The number of the conversation it was served (or copied) as: its locale and typed answers. */
  n: number;
  /** Its last reply as the walker read it; undefined when unknown (the walker then says hello). */
  reading: ReplyReading | undefined;
  copy: boolean;
}

interface Segment {
  firstCopy: number;
  lastCopy: number;
  templates: { id: string; n: number; reading: ReplyReading | undefined }[];
}

export class StoredConversations {
  private readonly served: string[] = [];
  private readonly readings = new Map<string, ReplyReading | undefined>();
  private readonly segments: Segment[] = [];
  private copies = 0;

  /** `prefix`: `bench-<run>-`, as in ./seed.ts. */
  constructor(readonly prefix: string) {}

  /** Conversations stored: served plus copies. */
  get size(): number {
    return this.served.length + this.copies;
  }

  get servedCount(): number {
    return this.served.length;
  }

  /** A conversation the walker left (finished, or between turns when the load stopped): stored by the bot. */
  addServed(id: string, reading: ReplyReading | undefined): void {
    if (!this.readings.has(id)) this.served.push(id);
    this.readings.set(id, reading ? keepForLater(reading) : undefined);
  }

  /** Copies `firstCopy..lastCopy` were made of these conversations (their ids), as they were stored then. */
  addCopies(firstCopy: number, lastCopy: number, templateIds: readonly string[]): void {
    if (lastCopy < firstCopy || templateIds.length === 0) return;
    const templates = templateIds.map((id) => ({ id, n: this.numberOf(id), reading: this.readings.get(id) }));
    this.segments.push({ firstCopy, lastCopy, templates });
    this.copies += (lastCopy - firstCopy + 1) * templates.length;
  }

  /** The id of copy `copy` of the template `templateId` (./seed.ts renames the prefix). */
  copyId(copy: number, templateId: string): string {
    return `${this.prefix}c${copy}-${templateId.slice(this.prefix.length)}`;
  }

  /** The conversation number in an id (`…-<n>`). */
  numberOf(id: string): number {
    return Number(/-(\d+)$/.exec(id)?.[1] ?? 0);
  }

  /** The stored conversation at position `i` (0 ≤ i < size). */
  at(i: number): StoredPick {
    if (i < this.served.length) {
      const id = this.served[i]!;
      return { id, userId: `${id}-user`, n: this.numberOf(id), reading: this.readings.get(id), copy: false };
    }
    let r = i - this.served.length;
    for (const s of this.segments) {
      const count = (s.lastCopy - s.firstCopy + 1) * s.templates.length;
      if (r < count) {
        const t = s.templates[r % s.templates.length]!;
        const id = this.copyId(s.firstCopy + Math.floor(r / s.templates.length), t.id);
        const reading = this.readings.has(id) ? this.readings.get(id) : t.reading;
        return { id, userId: `${id}-user`, n: t.n, reading, copy: true };
      }
      r -= count;
    }
    throw new RangeError(`no stored conversation ${i} (of ${this.size})`);
  }

  /** A stored conversation chosen at random, none of `busy` (a turn of it is in flight); undefined if none found. */
  pick(random: () => number, busy: ReadonlySet<string>): StoredPick | undefined {
    if (this.size === 0) return undefined;
    for (let tries = 0; tries < 8; tries++) {
      const p = this.at(Math.floor(random() * this.size));
      if (!busy.has(p.id)) return p;
    }
    return undefined;
  }

  /** The same stored conversations, remembered apart from now on (a copy of the store they are in). */
  copy(): StoredConversations {
    const twin = new StoredConversations(this.prefix);
    twin.served.push(...this.served);
    for (const [id, reading] of this.readings) twin.readings.set(id, reading);
    twin.segments.push(...this.segments);
    twin.copies = this.copies;
    return twin;
  }

  /** What a returning turn left the conversation at. */
  update(id: string, reading: ReplyReading | undefined): void {
    this.readings.set(id, reading ? keepForLater(reading) : undefined);
  }
}
