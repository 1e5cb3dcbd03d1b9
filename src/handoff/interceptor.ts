/**
 * The person's side of a hand-off, read before anything else in their turn (src/engine/read-message.ts
 * `Interceptor`): "talk to a person" / "оператор" asks for one (during opening hours; outside them
 * the bot says when people are back and offers a case); while the live chat runs, every message and
 * file goes to the engineer and "end" / "завершити" ends it; "cancel" withdraws a request still
 * waiting. With the feature off (no expert space) it takes nothing, and "operator" stays the
 * support command it was. Only messages that could concern a hand-off cost a query.
 */
import { randomUUID } from 'node:crypto';
import type { FlowEvent, Line } from '../../dialogs/flow';
import { endChat } from '../../dialogs/handoff/machine';
import { END_CHAT, HANDOFF_FLOW_ID } from '../../dialogs/handoff/steps';
import type { CaseIntakeInput } from '../../dialogs/support-case/case-draft';
import { entryInput } from '../engine/identity';
import type { Interceptor, TurnScope } from '../engine/engine';
import type { Translator } from '../i18n';
import { normaliseText } from '../nlu/normalise';
import type { HandoffAvailability } from './availability';
import { caseInputFrom } from './case-input';
import type { HandoffRepository, NewHandoff } from './repository';

/** Asking for a person, in either language (normalised text: lower case, no punctuation). */
const ASKS_FOR_PERSON = [
  /(?:^| )(?:talk|speak|chat) (?:to|with) (?:a |an )?(?:real |live )?(?:person|human|operator|engineer)(?: |$)/u,
  /^(?:an? )?(?:operator|human|live agent|real person)(?: please)?$/u,
  /(?:^| )з (?:живою )?людиною(?: |$)/u,
  /(?:^| )оператор\p{L}*(?: |$)/u,
  /^(?:жива )?людина$/u,
];
const ENDS_CHAT = /^(?:end|end (?:the |this )?chat|stop chat|завершити|завершити чат|завершити розмову|кінець)$/u;
const CANCELS = /^(?:cancel|cancel (?:the |my )?request|скасувати|скасувати запит)$/u;

export function asksForPerson(text: string, locale: 'en' | 'uk' = 'en'): boolean {
  const normal = normaliseText(text, locale);
  return ASKS_FOR_PERSON.some((re) => re.test(normal));
}

export const endsChat = (text: string, locale: 'en' | 'uk' = 'en') => ENDS_CHAT.test(normaliseText(text, locale));

export interface HandoffInterceptorDeps {
  repository: HandoffRepository;
  availability: HandoffAvailability;
  translator: Translator;
  waitMinutes: number;
  newId?: () => string;
}

/** A new request of this turn, kept in its commit (the card is posted once the turn is stored). */
export function requestIn(scope: TurnScope, caseInput: CaseIntakeInput, deps: Pick<HandoffInterceptorDeps, 'waitMinutes' | 'newId'>): NewHandoff {
  const create: NewHandoff = {
    id: (deps.newId ?? randomUUID)(),
    conversationKey: scope.conversationKey,
    channel: scope.inbound.channel,
    locale: scope.locale,
    caseInput,
    requestedAt: scope.now,
    waitUntil: new Date(Date.parse(scope.now) + deps.waitMinutes * 60_000).toISOString(),
  };
  scope.commit.handoff = { ...scope.commit.handoff, create };
  return create;
}

const line = (key: string, params?: Line['params']): Line => ({ key: `handoff:${key}`, ...(params ? { params } : {}) });

export function createHandoffInterceptor(deps: HandoffInterceptorDeps): Interceptor {
  const { repository } = deps;

  /** In the live chat: relayed, or ended. */
  async function live(scope: TurnScope): Promise<{ lines: Line[]; event?: FlowEvent } | undefined> {
    const { inbound, now, conversationKey } = scope;
    const h = await repository.activeFor(conversationKey);
    // Ended meanwhile by the engineer: "is it solved?" is on its way; the message goes nowhere else.
    if (!h || h.status !== 'taken') return undefined;
    const text = inbound.text?.trim() ?? '';
    if (inbound.choice?.id === END_CHAT || (text && endsChat(text, scope.locale))) {
      scope.commit.handoff = { ...scope.commit.handoff, end: { id: h.id, at: now } };
      // The button may be on an earlier message than the step's own (the chat shows none while it runs).
      return { lines: [], event: endChat };
    }
    const files = inbound.attachments ?? [];
    if (inbound.choice || (!text && !files.length)) return undefined;
    const id = inbound.activityId ?? randomUUID();
    scope.commit.handoff = { ...scope.commit.handoff, relay: [{ id: `${inbound.channel}:${id}`, handoffId: h.id, text, files, at: now }] };
    // The flow hears that the chat goes on (and shows nothing more); the engineer gets the words.
    return { lines: [], event: { type: 'TEXT', text } };
  }

  return async ({ scope, flowId, step, stack }) => {
    if (flowId === HANDOFF_FLOW_ID && step === 'live') return live(scope);
    const text = scope.inbound.text?.trim();
    if (!text || scope.inbound.choice) return undefined;
    if (asksForPerson(text, scope.locale)) {
      const availability = await deps.availability.now();
      if (availability.state === 'off') return undefined;
      if (await repository.activeFor(scope.conversationKey)) return { lines: [line('request.already')] };
      if (availability.state === 'closed') {
        const when = availability.back ? deps.translator.t(scope.locale, availability.back.key, availability.back.params) : '';
        // Offers a case the way "open a case" does: the guide's N9, or the hand-off its ending offered.
        return { lines: [line('request.closed', { when })], event: { type: 'SUPPORT' } };
      }
      requestIn(scope, caseInputFrom(stack, entryInput(await scope.identified(), scope.locale, scope.now)), deps);
      return { lines: [line('request.sent', { minutes: deps.waitMinutes })] };
    }
    if (CANCELS.test(normaliseText(text, scope.locale))) {
      const h = await repository.activeFor(scope.conversationKey);
      if (h?.status !== 'waiting') return undefined;
      scope.commit.handoff = { ...scope.commit.handoff, cancel: { id: h.id, at: scope.now } };
      return { lines: [line('request.cancelled')] };
    }
    return undefined;
  };
}
