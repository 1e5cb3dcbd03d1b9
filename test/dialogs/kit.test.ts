/** The flow kit on a small machine of its own: what the generated config does when it runs. */
import { assign, createActor, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../dialogs/flow';
import { chose, keysIn, onChoose, statesOf, stepsOf, stepView, textOf, toEachStep } from '../../dialogs/kit';

const TABLE = {
  first: { options: { go: { to: 'second' }, skip: { to: [{ when: 'isVip', to: 'third' }, { to: 'second' }] } } },
  second: { options: { go: { to: 'third' } } },
  third: { options: {} },
} as const;

const STEPS = stepsOf(TABLE);

const machine = setup({
  types: { context: {} as { vip: boolean; taken: string[]; at?: string; previous?: string }, events: {} as FlowEvent, input: {} as { vip: boolean } },
  guards: {
    chose,
    isVip: ({ context }) => context.vip,
    cameFrom: ({ context }, p: { step: string }) => context.previous === p.step,
  },
  actions: {
    took: assign(({ context }, p: { to: string }) => ({ taken: [...context.taken, p.to] })),
    remember: assign(({ context }, p: { step: string }) => ({ previous: context.at, at: p.step })),
  },
}).createMachine({
  context: ({ input }) => ({ vip: input.vip, taken: [] }),
  initial: 'first',
  on: { BACK: toEachStep(STEPS, 'cameFrom', () => []) },
  states: statesOf(TABLE, (step, entry: { options: Record<string, { to: string } | { to: readonly { to: string; when?: 'isVip' }[] }> }) => ({
    entry: { type: 'remember' as const, params: { step } },
    on: { CHOOSE: onChoose(entry.options, (branch) => ({ type: 'took' as const, params: { to: branch.to } })) },
  })),
});

function run(events: FlowEvent[], vip = false) {
  const actor = createActor(machine, { input: { vip } }).start();
  for (const e of events) actor.send(e);
  return actor.getSnapshot();
}
const choose = (choice: string): FlowEvent => ({ type: 'CHOOSE', choice });

describe('the flow kit', () => {
  it('lists a table’s steps and makes one state per step, in the table’s order', () => {
    expect(STEPS).toEqual(['first', 'second', 'third']);
    expect(Object.keys(machine.root.states)).toEqual(['first', 'second', 'third']);
  });

  it('leads each option to its step and runs the branch’s actions', () => {
    const s = run([choose('go'), choose('go')]);
    expect(s.value).toBe('third');
    expect(s.context.taken).toEqual(['second', 'third']);
  });

  it('takes the first branch whose `when` holds, else the next one', () => {
    expect(run([choose('skip')], true).value).toBe('third');
    expect(run([choose('skip')], false).value).toBe('second');
  });

  it('ignores an option the step does not have', () => {
    const s = run([choose('go'), choose('skip')]);
    expect(s.value).toBe('second');
    expect(s.context.taken).toEqual(['second']);
  });

  it('names the option in the guard’s params, where the diagram reads it', () => {
    const [plain, guarded] = onChoose({ a: { to: 'x' }, b: { to: [{ when: 'isVip', to: 'y' }] } }, () => []);
    expect(plain!.guard).toEqual({ type: 'chose', params: { choice: 'a' } });
    expect((guarded!.guard as unknown as { guards: unknown[] }).guards).toEqual([{ type: 'chose', params: { choice: 'b' } }, 'isVip']);
  });

  it('goes to the one step whose guard holds for it (here BACK: the step before)', () => {
    expect(run([choose('go'), choose('go'), { type: 'BACK' }]).value).toBe('second');
    expect(run([choose('skip'), { type: 'BACK' }], true).value).toBe('first');
    expect(run([{ type: 'BACK' }]).value).toBe('first');
  });

  it('reads the text of a typed or unrecognised message, and nothing from a press', () => {
    expect(textOf({ type: 'TEXT', text: 'SO 123' })).toBe('SO 123');
    expect(textOf({ type: 'UNRECOGNISED', text: 'hmm' })).toBe('hmm');
    expect(textOf(choose('go'))).toBe('');
  });

  it('prefixes keys with the flow’s namespace', () => {
    const { key, line, option } = keysIn('demo:');
    expect(key('a.b')).toBe('demo:a.b');
    expect(line('a.prompt')).toEqual({ key: 'demo:a.prompt' });
    expect(line('a.prompt', { n: 2 })).toEqual({ key: 'demo:a.prompt', params: { n: 2 } });
    expect(option('go', 'a.choices.go')).toEqual({ id: 'go', labelKey: 'demo:a.choices.go' });
  });

  it('fills in what a view leaves out, and sets an outcome only when there is one', () => {
    const v = stepView('first', { lines: [{ key: 'demo:first.prompt' }], helpKey: 'demo:first.help' });
    expect(v).toEqual({ step: 'first', lines: [{ key: 'demo:first.prompt' }], choices: [], links: [], facts: [], expects: 'choice', helpKey: 'demo:first.help' });
    expect('outcome' in v).toBe(false);
    expect(stepView('end', { lines: [], helpKey: 'h', outcome: 'resolved', expects: 'text' })).toMatchObject({ outcome: 'resolved', expects: 'text' });
  });
});
