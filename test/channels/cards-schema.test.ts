/**
 * Every Adaptive Card the bot sends, checked against the Adaptive Cards schema and parser of the
 * version its channel renders (test/schemas/adaptive-cards/check.ts): Teams and Web Chat 1.5, Webex 1.3.
 * The cards are the real ones: the real engine walks every flow (the troubleshooting guide, agent
 * triage, the support-case intake) in both languages, pressing every button, typing answers good and
 * bad, attaching a file, asking for help, support and triage, going back; each reply goes through the
 * real renderers (Bot Framework for Teams and Web Chat, Webex), and each press retires its card as
 * the channels do. A clarifying question and a press on an outdated card are played on purpose.
 */
import { fromPromise } from 'xstate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentTriageFlow } from '../../dialogs/agent-triage/machine';
import type { Locale } from '../../dialogs/flow';
import { provisioningContactFlow } from '../../dialogs/provisioning-contact/machine';
import { supportCaseFlow, type CaseStatusInput, type CaseStatusOutput, type OpenCaseInput, type OpenCaseOutput } from '../../dialogs/support-case';
import { renderForWebChat } from '../../src/channels/botframework/directline-bridge';
import { answeredCard, cardMessage, continuedCard, escapeMarkdown, TEAMS_CARDS, type T } from '../../src/channels/botframework/render';
import { pressedCard } from '../../src/channels/botframework/turn';
import { renderMessage as renderWebex, renderNote } from '../../src/channels/webex/render';
import { Engine } from '../../src/engine/engine';
import type { Inbound, RenderedMessage, TurnResult } from '../../src/engine/types';
import { createTranslator } from '../../src/i18n';
import { createStore } from '../../src/storage';
import type { SqlStore } from '../../src/storage/index';
import { checkCard, TEAMS, WEB_CHAT, WEBEX, type CardHost } from '../schemas/adaptive-cards/check';
import { silentLogger } from '../support';

const translator = createTranslator();
const LOCALES: Locale[] = ['en', 'uk'];
const CHANNEL_LOCALE: Record<Locale, string> = { en: 'en-US', uk: 'uk-UA' };
/** Turns after which a path is not followed further (the longest flow path is well within it). */
const MAX_TURNS = 30;

/** What a Teams card's button sends back (src/channels/botframework/activity.ts `cardSubmit`). */
interface Submit {
  choice: string;
  step?: string;
  prompt?: string;
  label?: string;
}

/** What a person does in one turn. */
type Act =
  | { kind: 'greet' }
  | { kind: 'press'; card: Submit }
  | { kind: 'say'; text: string }
  | { kind: 'attach' };

/** A typed answer each text step takes, and one it does not (for its hint). */
const TYPED: Record<string, [good: string, bad: string]> = {
  orderNumber: ['123456789', 'Sub123456'],
  customerOrder: ['987654321', '12'],
  subscriptionId: ['Sub1234567', '1234567'],
  currentEmail: ['old.contact@example.com', 'not an email'],
  newEmail: ['new.contact@example.com', 'old.contact@example.com'],
  customerEmail: ['customer@example.com', 'customer at example'],
  customerName: ['Olena Kovalenko', '123'],
};
const ANY_TEXT: [string, string] = ['I am not sure', '???'];

/** Words the engine understands as commands (locales/<lng>/recognizer.json) and a clarifying question. */
const SAID: Record<Locale, { help: string; back: string; support: string; triage: string; ambiguous: string; thanks: string }> = {
  en: { help: 'help', back: 'back', support: 'talk to support', triage: 'triage', ambiguous: 'change it or just check it?', thanks: 'thanks' },
  uk: { help: 'допомога', back: 'назад', support: 'підтримка', triage: 'тріаж', ambiguous: 'змінити чи тільки перевірити?', thanks: 'дякую' },
};

const ATTACHMENT = { name: 'screenshot.png', contentType: 'image/png', size: 24_000, url: 'https://files.example.com/screenshot.png' };

/**
 * Cases opened manually (with the summary to paste), queued (a field not known), or not at all (with
 * screenshots: the store is away), chosen by the draft; then, look-up after look-up, each status a
 * case can have, and a look-up that fails.
 */
let statusChecks = 0;
const caseActors = () => ({
  openCase: fromPromise<OpenCaseOutput, OpenCaseInput>(async ({ input: { draft } }) => {
    if (draft.attachments.length) throw new Error('case store unavailable');
    return draft.unknownFields?.length
      ? { reference: 'PCE-000102', delivery: 'queued' }
      : { reference: 'PCE-000101', delivery: 'manual', summary: 'Change Provisioning Contact Email\nOrder: 123456789\nNew contact: new.contact@example.com' };
  }),
  caseStatus: fromPromise<CaseStatusOutput, CaseStatusInput>(async ({ input: { reference } }) => {
    const statuses: (CaseStatusOutput | undefined)[] = [
      { reference, status: 'pending', retrying: true },
      { reference, status: 'delivered', externalId: 'SR-123456' },
      { reference, status: 'failed' },
      undefined,
      { reference, status: 'pending' },
    ];
    const status = statuses[statusChecks++ % statuses.length];
    if (!status) throw new Error('case store unavailable');
    return status;
  }),
});

interface Sent {
  host: CardHost;
  card: unknown;
  /** How the walk got there, for a failure message. */
  where: string;
}

let store: SqlStore;
let engine: Engine;
let conversations = 0;

beforeAll(async () => {
  store = createStore('sqlite::memory:', silentLogger);
  await store.open();
  engine = new Engine({
    store,
    flow: provisioningContactFlow,
    flows: [agentTriageFlow, supportCaseFlow],
    translator,
    logger: silentLogger,
    clock: () => new Date('2026-11-25T10:00:00Z'),
    actors: caseActors,
    // Everyone may run agent triage here, so its cards are walked too.
    agents: { isAgent: () => true },
  });
});
afterAll(async () => store.close());

/** One person per language; each path of the walk is a conversation of theirs. */
const inboundOf = (locale: Locale, conversationId: string, n: number): Inbound => ({
  channel: 'msteams',
  conversationId,
  activityId: `${conversationId}-${n}`,
  user: { id: `walker-${locale}`, name: 'Olena Kovalenko', email: 'olena@example.com' },
  locale: CHANNEL_LOCALE[locale],
});

/** Where a path stands: its conversation (as the store has it after `result`), and how it got there. */
interface Place {
  conversationId: string;
  acts: Act[];
  result: TurnResult;
  /** The step of the reply before, which with the answers shown decides where a step leads. */
  before?: string;
}

/** One turn of a conversation. */
function turn(locale: Locale, conversationId: string, n: number, act: Act): Promise<TurnResult> {
  const inbound = inboundOf(locale, conversationId, n);
  if (act.kind === 'greet') return engine.handle({ ...inbound, kind: 'greeting' });
  if (act.kind === 'press') return engine.handle({ ...inbound, choice: { id: act.card.choice, step: act.card.step } });
  if (act.kind === 'say') return engine.handle({ ...inbound, text: act.text });
  return engine.handle({ ...inbound, attachments: [ATTACHMENT] });
}

/**
 * A copy of a conversation as the store has it, to take one more turn from: each next step costs
 * one turn, not a replay of the whole path.
 */
async function fork(from: string): Promise<string> {
  const to = `cards-${++conversations}`;
  const state = await store.loadConversation(Engine.conversationKey({ channel: 'msteams', conversationId: from }));
  await store.commitTurn({ conversation: { ...state!, key: Engine.conversationKey({ channel: 'msteams', conversationId: to }) }, transcript: [] });
  return to;
}

/** Plays `acts` as a new conversation. */
async function play(locale: Locale, acts: Act[]): Promise<Place> {
  const conversationId = `cards-${++conversations}`;
  let result: TurnResult | undefined;
  let before: string | undefined;
  for (const [n, act] of acts.entries()) {
    before = result?.step;
    result = await turn(locale, conversationId, n, act);
  }
  return { conversationId, acts, result: result!, before };
}

/** One more act from where a path stands, in a copy of its conversation. */
async function step(locale: Locale, from: Place, act: Act): Promise<Place> {
  const conversationId = await fork(from.conversationId);
  const result = await turn(locale, conversationId, from.acts.length, act);
  return { conversationId, acts: [...from.acts, act], result, before: from.result.step };
}

const tFor = (locale: Locale): T => (key, params) => translator.t(locale, `botframework:${key}`, params);

/** Teams card content of a Bot Framework activity, if it carries one. */
function cardOf(activity: { attachments?: { contentType: string; content?: unknown }[] }): unknown {
  const attachment = activity.attachments?.find((a) => a.contentType === 'application/vnd.microsoft.card.adaptive');
  return attachment?.content;
}

/** Every card each channel sends for these messages, in the conversation's language. */
function cardsFor(messages: RenderedMessage[], locale: Locale, where: string): Sent[] {
  const t = tFor(locale);
  const out: Sent[] = [];
  for (const m of messages) {
    out.push({ host: TEAMS, card: cardOf(cardMessage(m, t, TEAMS_CARDS) as never), where });
    const webChat = cardOf(renderForWebChat(m, t) as never);
    if (webChat) out.push({ host: WEB_CHAT, card: webChat, where });
    for (const sent of renderWebex(m, locale, translator)) for (const a of sent.attachments ?? []) out.push({ host: WEBEX, card: a.content, where });
  }
  return out;
}

/** Pressing each button of the reply's Teams cards, with what the button sends. */
function pressesOf(result: TurnResult, locale: Locale): Act[] {
  const t = tFor(locale);
  return result.messages.flatMap((m) => {
    const card = cardOf(cardMessage(m, t, TEAMS_CARDS) as never) as { actions: { type: string; data: Submit }[] };
    return card.actions.filter((a) => a.type === 'Action.Execute' || a.type === 'Action.Submit').map((a): Act => ({ kind: 'press', card: a.data }));
  });
}

/**
 * What a person could do next: every button, a good and a bad answer to a text step, a file; and,
 * the first time a step is shown, the commands (help, back, support).
 */
function nextActs(result: TurnResult, locale: Locale, firstAtStep: boolean): Act[] {
  const acts = pressesOf(result, locale);
  const last = result.messages.at(-1);
  if (last?.expects === 'text') {
    const [good, bad] = TYPED[result.step] ?? ANY_TEXT;
    acts.push({ kind: 'say', text: good }, { kind: 'say', text: bad });
  }
  if (last?.expects === 'attachment') acts.push({ kind: 'attach' });
  const said = SAID[locale];
  if (firstAtStep) acts.push({ kind: 'say', text: said.help }, { kind: 'say', text: said.back }, { kind: 'say', text: said.support });
  return acts;
}

/**
 * The shape of a reply, which is what decides its cards' structure: steps, buttons, facts, links,
 * whether it waits for text, one paragraph or more. Replies of a shape seen already are not followed.
 */
function shapeOf(result: TurnResult): string {
  return `${result.step}|${result.outcome ?? ''}|${result.messages
    .map((m) => {
      // "Back to <an earlier step>" buttons differ with the path, not in kind.
      const choices = [...new Set(m.choices.map((c) => (c.id.startsWith('jump.') ? 'jump' : c.id)))].join(',');
      return [m.step, m.expects, Math.min(m.paragraphs.length, 2), m.facts.length > 0, m.links.length > 0, choices].join(':');
    })
    .join('/')}`;
}

/**
 * The cards of a reply, and of the card a press retires (Teams and Web Chat swap it for its answered
 * version; Webex deletes it and posts the answer as a note, without a card).
 */
function record(locale: Locale, place: Place, sent: Sent[]): void {
  const t = tFor(locale);
  const where = `${locale}: ${place.acts.map((a) => (a.kind === 'press' ? `press ${a.card.choice}` : a.kind === 'say' ? `say "${a.text}"` : a.kind)).join(' > ')}`;
  sent.push(...cardsFor(place.result.messages, locale, where));
  const act = place.acts.at(-1)!;
  if (act.kind !== 'press') return;
  const pressed = pressedCard({ type: 'message', value: act.card }, place.result, true);
  if (!pressed) {
    // Teams' Action.Execute press is always answered with what its card becomes.
    sent.push({ host: TEAMS, card: continuedCard(act.card.prompt, t), where: `${where} (continued)` });
    return;
  }
  sent.push({ host: TEAMS, card: answeredCard(pressed.submit.prompt, pressed.answer, t), where: `${where} (retired)` });
  sent.push({ host: WEB_CHAT, card: answeredCard(pressed.submit.prompt, pressed.answer, t, { plain: escapeMarkdown }), where: `${where} (retired)` });
  expect(renderNote(pressed.answer ?? '').attachments).toBeUndefined();
}

/** Breadth first over what a person can do, in one language, following each place once. */
async function walk(locale: Locale, sent: Sent[], steps: Set<string>): Promise<void> {
  const said = SAID[locale];
  const seen = new Set<string>();
  const commanded = new Set<string>();
  const queue: (() => Promise<Place>)[] = [
    [{ kind: 'greet' }],
    [{ kind: 'greet' }, { kind: 'say', text: said.ambiguous }],
    [{ kind: 'greet' }, { kind: 'say', text: said.thanks }],
    [{ kind: 'greet' }, { kind: 'say', text: said.triage }],
    [{ kind: 'say', text: said.support }],
  ].map((acts) => () => play(locale, acts as Act[]));
  while (queue.length) {
    const place = await queue.shift()!();
    const { result } = place;
    record(locale, place, sent);
    steps.add(`${locale}:${result.step}`);
    // The same question asked after other answers leads elsewhere (a closed order line's edit steps):
    // the answers so far (the facts the step shows) and the step before are part of where the walk stands.
    const at = `${shapeOf(result)}|${JSON.stringify(result.messages.map((m) => m.facts))}|${place.before}`;
    if (seen.has(at) || place.acts.length >= MAX_TURNS) continue;
    seen.add(at);
    const firstAtStep = !commanded.has(result.step);
    commanded.add(result.step);
    for (const next of nextActs(result, locale, firstAtStep)) queue.push(() => step(locale, place, next));
  }
}

describe('every card the bot sends', () => {
  const sent: Sent[] = [];
  const steps = new Set<string>();

  beforeAll(async () => {
    for (const locale of LOCALES) {
      await walk(locale, sent, steps);
      // A press on a card the conversation has moved past: answered politely, the card retired as outdated.
      const [first] = pressesOf((await play(locale, [{ kind: 'greet' }])).result, locale);
      record(locale, await play(locale, [{ kind: 'greet' }, first!, first!]), sent);
    }
  }, 600_000);

  it('walks every step of every flow, in both languages, through each channel', () => {
    const flows = [provisioningContactFlow, agentTriageFlow, supportCaseFlow];
    // States a person never waits in: the flow passes through them within a turn.
    const passing = new Set(['route', 'afterAttachments', 'opening', 'checking', 'handOff']);
    const all = flows.flatMap((f) => Object.keys(f.machine.root.states)).filter((s) => !passing.has(s));
    expect(LOCALES.flatMap((locale) => all.map((s) => `${locale}:${s}`)).filter((s) => !steps.has(s))).toEqual([]);
    for (const host of [TEAMS, WEB_CHAT, WEBEX]) expect(sent.filter((s) => s.host === host).length, host.name).toBeGreaterThan(50);
  });

  it('sends cards that are valid for the version their channel renders', () => {
    const checked = new Map<string, string>();
    const failures: string[] = [];
    for (const { host, card, where } of sent) {
      const key = `${host.name} ${JSON.stringify(card)}`;
      if (checked.has(key)) continue;
      const problems = checkCard(card, host);
      checked.set(key, where);
      if (problems.length) failures.push(`${host.name} card (${where}):\n    ${problems.join('\n    ')}`);
    }
    expect(failures).toEqual([]);
    expect(checked.size).toBeGreaterThan(100);
  });

  it('would fail on one of them broken on purpose: a Webex card with an Action.Execute', () => {
    const real = sent.find((s) => s.host === WEBEX && (s.card as { actions: unknown[] }).actions.length)!;
    expect(checkCard(real.card, WEBEX)).toEqual([]);
    const broken = structuredClone(real.card) as { actions: Record<string, unknown>[] };
    broken.actions[0] = { ...broken.actions[0], type: 'Action.Execute', verb: 'choose' };
    expect(checkCard(broken, WEBEX)).toEqual([
      'actions[0]: Action.Execute is not an action of Adaptive Cards 1.3',
      'adaptivecards: Unknown action type "Action.Execute". Fallback will be used if present.',
    ]);
  });

  it('declares 1.5 on Teams and Web Chat cards and 1.3 on Webex cards', () => {
    const versions = (host: CardHost) => new Set(sent.filter((s) => s.host === host).map((s) => (s.card as { version: string }).version));
    expect(versions(TEAMS)).toEqual(new Set(['1.5']));
    expect(versions(WEB_CHAT)).toEqual(new Set(['1.5']));
    expect(versions(WEBEX)).toEqual(new Set(['1.3']));
  });
});

describe('a broken card', () => {
  const webexCard = (actions: Record<string, unknown>[]) => ({ type: 'AdaptiveCard', version: '1.3', body: [{ type: 'TextBlock', text: 'Which one?', wrap: true }], actions });

  it('is reported: an Action.Execute (1.4) in a Webex 1.3 card', () => {
    const problems = checkCard(webexCard([{ type: 'Action.Execute', title: 'Yes', verb: 'yes' }]), WEBEX);
    expect(problems).toContain('actions[0]: Action.Execute is not an action of Adaptive Cards 1.3');
    expect(problems).toContain('adaptivecards: Unknown action type "Action.Execute". Fallback will be used if present.');
  });

  it('is reported: a property newer than the card version, and a card newer than the channel', () => {
    const problems = checkCard(webexCard([{ type: 'Action.Submit', title: 'Yes', isEnabled: false }]), WEBEX);
    expect(problems).toContain('actions[0].isEnabled is not a property of this version');
    expect(problems).toContain('adaptivecards: Property "isEnabled" is supported in version 1.5, but you are using version 1.3.');
    expect(checkCard({ ...webexCard([]), version: '1.5' }, WEBEX)).toContain('version 1.5 is newer than Webex renders (1.3)');
  });

  it('is reported: a missing required property, a wrong value, an input without an id', () => {
    const problems = checkCard(
      {
        type: 'AdaptiveCard',
        version: '1.5',
        msteams: { width: 'Full' },
        body: [{ type: 'TextBlock', wrap: true }, { type: 'FactSet', facts: [{ title: 'Order' }] }, { type: 'Container', items: [{ type: 'TextBlock', text: 'x', weight: 'Heavy' }] }, { type: 'Input.Text' }],
        actions: [{ type: 'Action.OpenUrl', title: 'Article' }],
      },
      TEAMS,
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'body[0].text is required',
        'body[1].facts[0].value is required',
        'body[2].items[0].weight must be one of: default, lighter, bolder',
        'body[3].id is required',
        'actions[0].url is required',
        'adaptivecards: Property "url" must be set.',
        'adaptivecards: All inputs must have a unique Id.',
      ]),
    );
  });

  it('is reported: a Teams extension on a Webex card', () => {
    expect(checkCard({ ...webexCard([]), msteams: { width: 'Full' } }, WEBEX)).toContain('msteams is not a property of this version');
  });
});
