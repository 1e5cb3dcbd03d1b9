/**
 * The engineers' side of a hand-off, whatever space they are in: take a request ("Take it"), write
 * to the person, end the chat. Only agents listed in AGENT_IDS, by an id their channel proved
 * (src/security/identity.ts), may take one, and only the engineer who took it may write or end it;
 * anyone else gets a polite English line for their space instead. The worker (./worker.ts) does
 * what follows from each move.
 */
import type { AttachmentRef } from '../../dialogs/flow';
import type { InboundUser } from '../engine/types';
import type { Translator } from '../i18n';
import { endsChat } from './interceptor';
import type { HandoffRecord, HandoffRepository } from './repository';
import type { SpaceName } from './spaces';
import { handoffRef } from './summary';

export interface Expert {
  /** As the space reports them; `verified` is what makes them an agent. */
  user: InboundUser;
  /** `${space}:${their id in the space}`. */
  key: string;
  name: string;
  space: SpaceName;
}

/** Who may act as an engineer: `Agents` (src/security/identity.ts) decides by proven ids. */
export type HandoffAgents = { isAgent(user: InboundUser): boolean };

export interface HandoffDeskDeps {
  repository: HandoffRepository;
  agents: HandoffAgents;
  translator: Translator;
  clock: () => Date;
  /** Something changed: the worker should look at once. */
  onChange: () => void;
  /** Each request taken, with how long it waited, and each chat an engineer ended (metrics). */
  onTaken?: (waitSeconds: number) => void;
  onEnded?: () => void;
}

/** What the space answers the engineer with, when anything. */
export type DeskAnswer = string | undefined;

export class HandoffDesk {
  constructor(private readonly deps: HandoffDeskDeps) {}

  private en(key: string, params?: Record<string, unknown>): string {
    return this.deps.translator.t('en', `handoff:expert.${key}`, params);
  }

  /** Whether this person may act as an engineer (choose where requests go, take them): an agent by a proven id. */
  isAgent(user: InboundUser): boolean {
    return this.deps.agents.isAgent(user);
  }

  /** "Take it" pressed on the request `id`. */
  async take(id: string, expert: Expert): Promise<DeskAnswer> {
    const { repository, agents, clock } = this.deps;
    if (!agents.isAgent(expert.user)) return this.en('notAgent');
    const now = clock();
    if (await repository.take(id, { key: expert.key, name: expert.name, space: expert.space }, now)) {
      const h = await repository.find(id);
      if (h) this.deps.onTaken?.((now.getTime() - Date.parse(h.requestedAt)) / 1000);
      this.deps.onChange();
      return undefined;
    }
    const h = await repository.find(id);
    if (h?.takenByName && h.takenBy !== expert.key) return this.en('alreadyTaken', { name: h.takenByName, ref: handoffRef(id) });
    return h?.status === 'taken' ? undefined : this.en('notLive', { ref: handoffRef(id) });
  }

  /** The engineer wrote in the chat's thread (the space has found the hand-off `h` by the thread). */
  async say(h: HandoffRecord, expert: Expert, message: { id: string; text: string; files: AttachmentRef[] }): Promise<DeskAnswer> {
    const { repository, clock, translator } = this.deps;
    const ref = handoffRef(h.id);
    if (h.status !== 'taken') return this.en('notLive', { ref });
    if (h.takenBy !== expert.key) return this.en('notYours', { ref, name: h.takenByName ?? '' });
    if (endsChat(message.text)) {
      if (await repository.endByExpert(h.id, clock())) this.deps.onEnded?.();
      this.deps.onChange();
      return undefined;
    }
    const names = message.files.map((f) => f.name).join(', ');
    const text = [message.text, names && translator.t(h.locale, 'handoff:relay.files', { names })].filter(Boolean).join('\n');
    if (!text) return undefined;
    // The transcript keeps who said it in the conversation's language, as the person read it.
    const transcript = translator.t(h.locale, 'handoff:relay.fromExpert', { name: h.takenByName ?? expert.name, text: '\u0000' }).replace('\u0000', () => text);
    await repository.relayToPerson(h, message.id, { text, name: h.takenByName ?? expert.name, transcript }, clock());
    this.deps.onChange();
    return undefined;
  }
}
