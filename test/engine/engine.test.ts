import { fromPromise } from 'xstate';
import { beforeEach, describe, expect, it } from 'vitest';
import { Engine, type EngineOptions } from '../../src/engine/engine';
import type { Inbound } from '../../src/engine/types';
import { createTranslator, type Resources } from '../../src/i18n';
import type { SqlStore } from '../../src/storage/index';
import { memoryStore } from '../storage/harness';
import { entryFlow, fixtureResources, intakeFlow } from './fixture-flows';
import { silentLogger } from '../support';

const translator = createTranslator(fixtureResources as unknown as Resources);
let store: SqlStore;
let opened: string[];

function engine(extra: Partial<EngineOptions> = {}): Engine {
  return new Engine({
    store,
    flow: entryFlow,
    flows: [intakeFlow],
    translator,
    logger: silentLogger,
    clock: () => new Date('2026-11-25T10:00:00Z'),
    actors: (scope) => ({
      openCase: fromPromise(async ({ input }: { input: { user: string } }) => {
        opened.push(input.user);
        scope.commit.funnel = [{ at: scope.now, conversationKey: scope.conversationKey, channel: 'test', locale: scope.locale, mode: 'self', kind: 'outcome', step: 'case', value: 'staged' }];
        return { reference: `PCE-${String(opened.length).padStart(6, '0')}` };
      }),
    }),
    ...extra,
  });
}

const base = (conversationId = 'c1'): Inbound => ({ channel: 'test', conversationId, user: { id: 'u1' } });
const say = (e: Engine, text: string, extra: Partial<Inbound> = {}) => e.handle({ ...base(), text, ...extra });
const press = (e: Engine, id: string, step?: string, extra: Partial<Inbound> = {}) => e.handle({ ...base(), choice: { id, step }, ...extra });
const shown = (r: Awaited<ReturnType<Engine['handle']>>) => r.messages.flatMap((m) => m.paragraphs);

/** The funnel events stored so far, oldest first. */
const funnel = () => store.db.selectFrom('funnel_events').select(['kind', 'step', 'value']).orderBy('id').execute();

beforeEach(async () => {
  store = await memoryStore();
  opened = [];
});

describe('Engine', () => {
  it('greets with the first step and its buttons', async () => {
    const r = await engine().handle({ ...base(), kind: 'greeting' });
    expect(shown(r)).toEqual(['Did it work?']);
    expect(r.messages[0]!.choices).toEqual([{ id: 'yes', label: 'Yes' }, { id: 'no', label: 'No' }]);
  });

  it('understands a synonym, an option number and a label in the other language', async () => {
    const e = engine();
    expect((await say(e, 'yep')).outcome).toBe('resolved');
    store = await memoryStore();
    expect((await engine().handle({ ...base(), text: '2' })).step).toBe('describe');
    store = await memoryStore();
    expect((await engine().handle({ ...base(), text: 'Так' })).outcome).toBe('resolved');
  });

  it('hands a finished flow to the next flow and back again on BACK from its first step', async () => {
    const e = engine();
    const handed = await press(e, 'no', 'ask');
    expect(handed.step).toBe('describe');
    expect(shown(handed)).toEqual(['Describe the problem.']);
    expect((await store.loadConversation('test:c1'))?.parents).toHaveLength(1);
    const back = await say(e, 'back');
    expect(back.step).toBe('ask');
    expect(shown(back)).toEqual(['Did it work?']);
    expect((await store.loadConversation('test:c1'))?.parents).toEqual([]);
  });

  it('starts the guide again as a new run when the flow to go back to cannot be restored', async () => {
    const e = engine();
    await press(e, 'no', 'ask');
    const record = (await store.loadConversation('test:c1'))!;
    const parents = record.parents.map((p) => ({ ...p, flowVersion: 0 }));
    await store.db.updateTable('conversations').set({ parents: JSON.stringify(parents) }).where('key', '=', 'test:c1').execute();
    const before = (await funnel()).length;
    // A bot process started after the update (the one before still holds that turn's row: only a new turn changes it).
    const back = await say(engine(), 'back');
    expect(back.step).toBe('ask');
    expect(shown(back)).toEqual(['Guide updated, starting again.', 'Did it work?']);
    expect((await funnel()).slice(before).map((f) => [f.kind, f.step])).toEqual([
      ['started', 'ask'],
      ['step_entered', 'ask'],
      ['turn', 'ask'],
    ]);
    expect((await store.loadConversation('test:c1'))?.parents).toEqual([]);
  });

  it('runs the flow’s actor within the turn and commits what it staged with the turn', async () => {
    const e = engine();
    await press(e, 'no', 'ask');
    const r = await say(e, 'The email went to a former employee');
    expect(r.outcome).toBe('case_opened');
    expect(shown(r)).toEqual(['Case PCE-000001 opened.']);
    expect((await funnel()).some((f) => f.value === 'staged')).toBe(true);
  });

  it('goes back from an ending to the question answered last', async () => {
    const e = engine();
    expect((await say(e, 'yep')).outcome).toBe('resolved');
    const back = await say(e, 'back');
    expect(back.step).toBe('ask');
    expect(back.outcome).toBeUndefined();
    expect(shown(back)).toEqual(['Did it work?']);
    expect((await say(e, 'nope')).step).toBe('describe');
  });

  it('acts once on the same activity delivered twice', async () => {
    const e = engine();
    await press(e, 'no', 'ask', { activityId: 'a1' });
    await say(e, 'text', { activityId: 'a2' });
    const again = await say(e, 'text', { activityId: 'a2' });
    expect(again.duplicate).toBe(true);
    expect(again.messages).toEqual([]);
    expect(opened).toHaveLength(1);
  });

  it('answers a press from an older card without acting on it', async () => {
    const e = engine();
    await press(e, 'no', 'ask');
    const r = await press(e, 'yes', 'ask');
    expect(r.stale).toBe(true);
    expect(r.step).toBe('describe');
    expect(shown(r)).toEqual(['Stale press.', 'Describe the problem.']);
  });

  it('serialises turns of one conversation that arrive together', async () => {
    const e = engine();
    const [a, b] = await Promise.all([press(e, 'no', 'ask'), say(e, 'first description')]);
    expect(a.step).toBe('describe');
    expect(b.outcome).toBe('case_opened');
    expect((await store.loadConversation('test:c1'))?.turn).toBe(2);
  });

  it('shows step help without moving, and switches language and remembers it for the person', async () => {
    const e = engine();
    const help = await say(e, 'help');
    expect(shown(help)).toEqual(['Help for ask.', 'Did it work?']);
    const uk = await say(e, 'ukrainian');
    expect(uk.locale).toBe('uk');
    expect(shown(uk)).toEqual(['Тепер українською.', 'Вдалося?']);
    const other = await engine().handle({ ...base('c2'), kind: 'greeting', locale: 'en-US' });
    expect(other.locale).toBe('uk');
  });

  it('takes the language from the channel until the person chooses one', async () => {
    const r = await engine().handle({ ...base(), kind: 'greeting', locale: 'uk-UA' });
    expect(r.locale).toBe('uk');
    expect(shown(r)).toEqual(['Вдалося?']);
  });

  it('starts over politely when the stored snapshot is from an older flow version', async () => {
    const e = engine();
    await press(e, 'no', 'ask');
    const record = (await store.loadConversation('test:c1'))!;
    await store.db.updateTable('conversations').set({ flow_version: 0 }).where('key', '=', record.key).execute();
    // A bot process started after the update, as after a deploy (the one before still holds that turn's row).
    const r = await say(engine(), 'anything');
    expect(shown(r)[0]).toBe('Guide updated, starting again.');
    expect(r.step).toBe('ask');
  });

  it('starts over politely when the stored snapshot is damaged', async () => {
    await say(engine(), 'help');
    const record = (await store.loadConversation('test:c1'))!;
    const damaged = { status: 'active', value: 'no-such-state', context: {} };
    await store.db.updateTable('conversations').set({ snapshot: JSON.stringify(damaged) }).where('key', '=', record.key).execute();
    // A bot process started after the damage (the one before still holds the live flow of that turn).
    const r = await say(engine(), 'yep');
    expect(shown(r)[0]).toBe('Could not resume, starting again.');
  });

  it('goes on from what is stored when another instance answered the last turn', async () => {
    const a = engine();
    const b = engine();
    expect((await press(a, 'no', 'ask')).step).toBe('describe');
    // The same flow moves on at instance b: the case is opened there.
    const opened = await say(b, 'The email never came');
    expect(opened.outcome).toBe('case_opened');
    // Instance a still holds the intake it left at "describe"; it answers from what b stored.
    const r = await say(a, 'back');
    expect(r.step).toBe('opened');
    expect((await store.loadConversation('test:c1'))?.turn).toBe(3);
  });

  it('lets an intent answer without moving the flow', async () => {
    const e = engine({ intents: [async (text) => (text.includes('PCE-') ? [{ key: 'fixture:done' }] : undefined)] });
    const r = await say(e, 'status of PCE-000001?');
    expect(shown(r)).toEqual(['Great.', 'Did it work?']);
    expect(r.step).toBe('ask');
  });

  it('records the person’s words and the bot’s answer in the transcript', async () => {
    const e = engine();
    await say(e, 'yep');
    expect((await store.loadTranscript('test:c1')).map((t) => [t.from, t.text])).toEqual([
      ['user', 'yep'],
      ['bot', 'Great.'],
    ]);
  });
});

describe('who the person is (TurnOptions.identify)', () => {
  const person = { name: 'Olena Partner', email: 'olena@partner.example' };
  /** The person in the stored run's input. */
  const runUser = async () => ((await store.loadConversation('test:c1'))!.snapshot as { context: { input: { user: unknown } } }).context.input.user;

  it('is asked only when a run may begin, and the run keeps the answer', async () => {
    let asked = 0;
    const identify = async () => {
      asked++;
      return person;
    };
    const turn = (e: Engine, text: string) => e.handle({ ...base(), text }, { identify });

    await turn(engine(), 'hello'); // a new conversation: a new run
    expect(asked).toBe(1);
    expect(await runUser()).toEqual({ id: 'u1', ...person });

    // A returning person in the middle of the run, on an instance that never saw them: no look-up.
    await turn(engine(), 'something unclear');
    await turn(engine(), 'help'); // a command that begins no run
    expect(asked).toBe(1);
    await turn(engine(), 'start over');
    expect(asked).toBe(2);

    expect((await turn(engine(), 'yep')).outcome).toBe('resolved');
    expect(asked).toBe(2);
    // Anything said after an ending begins the guide again: the new run knows the person.
    await turn(engine(), 'hello again');
    expect(asked).toBe(3);
    expect(await runUser()).toEqual({ id: 'u1', ...person });
  });

  it('keeps the name the message gave, and takes the channel’s email', async () => {
    await engine().handle({ ...base(), user: { id: 'u1', name: 'Olena' }, text: 'hello' }, { identify: async () => person });
    expect(await runUser()).toEqual({ id: 'u1', name: 'Olena', email: 'olena@partner.example' });
  });

  it('is asked by a runtime piece that needs the person, once per turn', async () => {
    let asked = 0;
    const seen: unknown[] = [];
    const e = engine({
      intents: [
        async (_text, scope) => {
          seen.push((await scope.identified()).user, (await scope.identified()).user, scope.inbound.user);
          return undefined;
        },
      ],
    });
    await e.handle({ ...base(), kind: 'greeting' });
    await e.handle({ ...base(), text: 'hmm' }, { identify: async () => (asked++, person) });
    expect(asked).toBe(1);
    expect(seen).toEqual([{ id: 'u1', ...person }, { id: 'u1', ...person }, { id: 'u1', ...person }]);
  });
});
