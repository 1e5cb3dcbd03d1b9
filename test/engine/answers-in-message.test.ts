/**
 * The engine's part in answers that fill more than one step (src/engine/answers-in-message.ts): the
 * plan is the flow's own transitions, one ordinary answer per question; a flow opts in with its
 * phrases; every answer is recorded as answered; answers for questions further on are kept with the
 * conversation, not in one process's memory.
 */
import { createActor, type AnyMachineSnapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { Locale } from '../../dialogs/flow';
import { provisioningContactFlow, provisioningContactMachine } from '../../dialogs/provisioning-contact/machine';
import { canTakeFromMessage, planMessageAnswers, takenSummary, type PlanInput } from '../../src/engine/answers-in-message';
import { Engine } from '../../src/engine/engine';
import type { Inbound } from '../../src/engine/types';
import { createTranslator, loadResources, type Resources } from '../../src/i18n';
import type { MessageScan } from '../../src/nlu/recogniser';
import { statementsOf } from '../../src/nlu/statements';
import type { SqlStore } from '../../src/storage/index';
import type { TurnCommit } from '../../src/storage/store';
import { flowInput, translator } from '../dialogs/provisioning-contact/helpers';
import { memoryStore } from '../storage/harness';
import { silentLogger } from '../support';

/** A store that also keeps every commit it was given. */
async function recordingStore(): Promise<SqlStore & { commits: TurnCommit[] }> {
  const store = Object.assign(await memoryStore(), { commits: [] as TurnCommit[] });
  const commitTurn = store.commitTurn.bind(store);
  store.commitTurn = (commit) => (store.commits.push(commit), commitTurn(commit));
  return store;
}

const engineOn = (store: SqlStore, t = translator) =>
  new Engine({ store, flow: provisioningContactFlow, translator: t, logger: silentLogger, clock: () => new Date('2026-11-25T10:00:00Z') });
const inbound = (text: string, locale: Locale = 'en', conversationId = 'c1'): Inbound => ({ channel: 'test', conversationId, user: { id: 'u1' }, locale, text });

const FIRST_MESSAGE = 'our customer never got the provisioning email, they checked spam already, and the order line shows Closed';

describe('the engine', () => {
  it('records every answer a message gave as answered, each at its own question', async () => {
    const store = await recordingStore();
    await engineOn(store).handle(inbound(FIRST_MESSAGE));
    const answers = store.commits.at(-1)!.funnel!.filter((f) => f.kind === 'answer').map((f) => `${f.step}:${f.value}`);
    expect(answers).toEqual(['entry:never_arrived', 'spamCheck:not_found', 'orderLineStatus:closed']);
  });

  it('skips nothing for a flow without the phrases to say what it took', async () => {
    const resources = loadResources();
    const without = Object.fromEntries(
      Object.entries(resources).map(([lng, namespaces]) => {
        const { fromMessage: _dropped, ...rest } = namespaces['provisioning-contact'] as Record<string, unknown>;
        return [lng, { ...namespaces, 'provisioning-contact': rest }];
      }),
    ) as unknown as Resources;
    const r = await engineOn(await memoryStore(), createTranslator(without)).handle(inbound(FIRST_MESSAGE));
    // The question asked is still answered as the message's parts read it; nothing after it is.
    expect(r.step).toBe('spamCheck');
  });

  it('keeps answers for a question further on with the conversation: another instance takes them', async () => {
    const store = await memoryStore();
    const first = await engineOn(store).handle(inbound('the provisioning email never arrived, the line is closed', 'en', 'kept'));
    expect(first.step).toBe('spamCheck');
    const other = engineOn(store);
    const r = await other.handle({ channel: 'test', conversationId: 'kept', user: { id: 'u1' }, locale: 'en', choice: { id: 'not_found', step: 'spamCheck' } });
    expect(r.step).toBe('closedOrder');
    expect(r.messages[0]!.paragraphs[0]).toBe("From your message I understood that the line is “Closed”, so I've skipped that question.");
  });

  it('forgets them once the person does anything but answer the question in between', async () => {
    const store = await memoryStore();
    const e = engineOn(store);
    await e.handle(inbound('the provisioning email never arrived, the line is closed', 'en', 'forgot'));
    await e.handle(inbound('help', 'en', 'forgot'));
    const r = await e.handle({ channel: 'test', conversationId: 'forgot', user: { id: 'u1' }, locale: 'en', choice: { id: 'not_found', step: 'spamCheck' } });
    expect(r.step).toBe('orderLineStatus');
  });
});

/** The flow after `choices`, at the question they lead to. */
function at(...choices: string[]): AnyMachineSnapshot {
  const actor = createActor(provisioningContactMachine, { input: flowInput() }).start();
  for (const choice of choices) actor.send({ type: 'CHOOSE', choice });
  const s = actor.getSnapshot();
  actor.stop();
  return s as AnyMachineSnapshot;
}

function plan(snapshot: AnyMachineSnapshot, scan: Partial<MessageScan>, extra: Partial<PlanInput> = {}) {
  return planMessageAnswers({
    flow: provisioningContactFlow,
    machine: provisioningContactMachine,
    snapshot,
    asked: provisioningContactFlow.view(snapshot as never),
    scan: { statements: ['a', 'b'], findings: [], contradicted: [], likelyAtAsked: [], ...scan },
    canTake: (step, choice) => canTakeFromMessage(translator, 'en', 'provisioning-contact', step, choice),
    ...extra,
  });
}
const found = (...pairs: string[]) => pairs.map((p) => ({ step: p.split(':')[0]!, choice: p.split(':')[1]!, score: 1 }));

describe('planning a message of several answers', () => {
  it('sends one ordinary answer per question, in the order the flow asks them', () => {
    expect(plan(at(), { findings: found('orderLineStatus:closed', 'spamCheck:not_found', 'entry:never_arrived') })).toEqual({
      kind: 'answers',
      events: ['never_arrived', 'not_found', 'closed'].map((choice) => ({ type: 'CHOOSE', choice })),
      taken: [
        { step: 'spamCheck', choice: 'not_found' },
        { step: 'orderLineStatus', choice: 'closed' },
      ],
      ahead: [],
    });
  });

  it('stops at a question the message answers two ways', () => {
    const p = plan(at(), { findings: found('entry:never_arrived', 'spamCheck:not_found', 'editAccess:can_edit'), contradicted: ['orderLineStatus'] });
    expect(p).toMatchObject({ kind: 'answers', taken: [{ step: 'spamCheck', choice: 'not_found' }] });
  });

  it('takes no answer the flow has no phrase for (a skip would say nothing of it)', () => {
    // "found" ends the guide: it is never taken for a question that was not asked.
    expect(plan(at(), { findings: found('entry:never_arrived', 'spamCheck:found') }, { understood: 'never_arrived' })).toBeUndefined();
  });

  it('asks which was meant when the answer to the question asked ends the guide and another leads on to the rest', () => {
    const p = plan(at('never_arrived'), { findings: found('orderLineStatus:closed') }, { understood: 'found' });
    expect(p).toEqual({ kind: 'clarify', options: ['found', 'not_found'], ahead: [{ step: 'orderLineStatus', choice: 'closed' }] });
  });

  it('lets the whole message settle a question its statements answer two ways', () => {
    const p = plan(at('never_arrived'), { findings: found('orderLineStatus:closed'), contradicted: ['spamCheck'], likelyAtAsked: ['found', 'not_found'] }, { understood: 'not_found' });
    expect(p).toMatchObject({ kind: 'answers', events: [{ type: 'CHOOSE', choice: 'not_found' }, { type: 'CHOOSE', choice: 'closed' }] });
    // …and asks when the whole message settles nothing.
    expect(plan(at('never_arrived'), { findings: found('orderLineStatus:closed'), contradicted: ['spamCheck'], likelyAtAsked: ['found', 'not_found'] })).toMatchObject({
      kind: 'clarify',
    });
  });

  it('changes nothing when the message answers nothing beyond the question asked', () => {
    expect(plan(at(), { findings: found('entry:never_arrived') }, { understood: 'never_arrived' })).toBeUndefined();
  });

  it('words the summary as each language lists things', () => {
    const taken = [
      { step: 'spamCheck', choice: 'not_found' },
      { step: 'orderLineStatus', choice: 'closed' },
      { step: 'closedOrder', choice: 'can_edit' },
    ];
    const say = (locale: Locale) => translator.t(locale, takenSummary(translator, locale, 'provisioning-contact', taken).key, takenSummary(translator, locale, 'provisioning-contact', taken).params);
    expect(say('en')).toBe(
      "From your message I understood that the email isn't in spam or the mail filters, the line is “Closed”, and you can edit the order, so I've skipped those questions.",
    );
    expect(say('uk')).toBe('З вашого повідомлення я зрозумів, що у спамі й поштових фільтрах листа немає, рядок має статус «Closed» і ви можете редагувати замовлення, тож ці запитання пропускаю.');
  });
});

describe('the statements of a message', () => {
  it.each([
    ['en', 'the email never arrived, they checked spam already. The line says Closed', ['the email never arrived', 'they checked spam already', 'the line says closed']],
    ['en', 'it never arrived and it is not in spam', ['it never arrived', 'it is not in spam']],
    ['en', 'checked spam and junk - nothing', ['checked spam and junk', 'nothing']],
    ['en', 'not in spam or junk', ['not in spam or junk']],
    ['en', 'was awaiting but now closed', ['was awaiting', 'now closed']],
    ['en', 'the A-Flex order', ['the a flex order']],
    ['uk', 'лист так і не прийшов, а рядок закритий', ['лист так і не прийшов', 'рядок закритий']],
    ['uk', 'у спамі й фільтрах перевіряли — нема', ['у спамі й фільтрах перевіряли', 'нема']],
    ['uk', 'змінити чи тільки перевірити?', ['змінити', 'тільки перевірити']],
    ['uk', 'не знаю, чи закритий', ['не знаю', 'чи закритий']],
  ] as const)('%s: "%s"', (locale, text, statements) => {
    expect(statementsOf(text, locale)).toEqual(statements);
  });
});
