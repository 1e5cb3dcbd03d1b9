/**
 * The one way a flow is written: a step table (one entry per step, in the order the flow asks
 * them) from which the flow's states, its step list and its view are derived. These helpers only
 * build plain XState config that refers to guards and actions by name; each flow still declares
 * those in its own `setup()`, so the config is type-checked against them.
 */
import { and, type EventObject, type GuardPredicate, type MachineContext } from 'xstate';
import type { Choice, FlowEvent, Line, StepView } from './flow';

/** The steps of a table, in its order. */
export function stepsOf<T extends object>(table: T): (keyof T & string)[] {
  return Object.keys(table) as (keyof T & string)[];
}

/** One state per entry of a table, keyed by step (the keys are the state names stored in snapshots). */
export function statesOf<T extends object, S>(table: T, state: (step: keyof T & string, entry: T[keyof T & string]) => S): Record<keyof T & string, S> {
  return Object.fromEntries(stepsOf(table).map((step) => [step, state(step, table[step])])) as Record<keyof T & string, S>;
}

/** What a typed message said (also when it was not recognised as one of the options). */
export function textOf(event: FlowEvent): string {
  return event.type === 'TEXT' || event.type === 'UNRECOGNISED' ? event.text : '';
}

/** The guard every flow declares as `chose`: the person picked the option `params.choice`. */
export function chose({ event }: { event: FlowEvent }, params: { choice: string }): boolean {
  return event.type === 'CHOOSE' && event.choice === params.choice;
}

/** A reference to the `chose` guard; the diagram reads the choice id from its params. */
export const choice = <C extends string>(id: C) => ({ type: 'chose', params: { choice: id } }) as const;
type ChoseRef = ReturnType<typeof choice<string>>;
/** A guard named without params, as XState types it (none for `never`). */
type Named<G extends string> = G extends string ? { type: G; params: undefined } : never;

/**
 * `chose` the option and the named guard `when` holds. Typed as what `and()` returns for these two
 * names, so the machine still checks that both are declared (and() cannot infer from a type parameter).
 */
function choseWhen<When extends string>(id: string, when: When) {
  return and([choice(id), when as never]) as unknown as GuardPredicate<MachineContext, EventObject, unknown, ChoseRef | Named<When>>;
}

/** A route an option may take: to `to`, when the guard `when` (if any) also holds. */
export type Branch<Target extends string = string, When extends string = string> = { readonly to: Target; readonly when?: When };
/**
 * An option of a step: it leads `to` a step, or `to` the first of several branches whose `when`
 * holds. Flows add what else a branch needs (actions, why it ends in a case) and what an option means.
 */
export type Option<Target extends string = string, When extends string = string> = { readonly to: Target } | { readonly to: readonly Branch<Target, When>[] };

type BranchOf<O> = O extends undefined ? never : O extends { to: readonly (infer B)[] } ? B : O;
type WhenOf<B> = B extends { when?: infer W } ? Extract<W, string> : never;
type TargetOf<B> = B extends { to: infer T extends string } ? T : never;

/**
 * The CHOOSE transitions of a step from its options: for each option in order, one transition per
 * branch, guarded by `chose` (and `when`); `actions` says what taking the branch does.
 */
export function onChoose<const O extends Readonly<Record<string, Option>>, A>(options: O, actions: (branch: BranchOf<O[keyof O]>) => A) {
  type B = BranchOf<O[keyof O]>;
  return Object.entries(options).flatMap(([id, option]) => {
    const branches = (typeof option.to === 'string' ? [option] : option.to) as readonly (B & Branch)[];
    return branches.map((b) => ({
      guard: b.when ? choseWhen(id, b.when as WhenOf<B>) : choice(id),
      target: b.to as TargetOf<B>,
      actions: actions(b),
    }));
  });
}

/** One transition to each of `steps` (`.step`, a child of the root), taken when `guard` holds for that step: BACK, jumps. */
export function toEachStep<S extends string, G extends string, A>(steps: readonly S[], guard: G, actions: (step: S) => A) {
  return steps.map((step) => ({ guard: { type: guard, params: { step } }, target: `.${step}` as const, actions: actions(step) }));
}

/** The view's key helpers for one i18n namespace (`provisioning-contact:`). */
export function keysIn(ns: string) {
  const key = (k: string): string => `${ns}${k}`;
  return {
    key,
    line: (k: string, params?: Line['params']): Line => (params ? { key: key(k), params } : { key: key(k) }),
    option: (id: string, labelKey: string): Choice => ({ id, labelKey: key(labelKey) }),
  };
}

/** A view with the parts a step leaves out filled in: no options, links or facts; a choice expected. */
export function stepView(step: string, v: Pick<StepView, 'lines' | 'helpKey'> & Omit<Partial<StepView>, 'step'>): StepView {
  return {
    step,
    lines: v.lines,
    choices: v.choices ?? [],
    links: v.links ?? [],
    facts: v.facts ?? [],
    expects: v.expects ?? 'choice',
    helpKey: v.helpKey,
    ...(v.outcome ? { outcome: v.outcome } : {}),
  };
}
