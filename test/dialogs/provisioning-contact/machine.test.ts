import { describe, expect, it } from 'vitest';
import { LOCALES, type Line, type StepView } from '../../../dialogs/flow';
import { caseDraft, caseIntakeInput } from '../../../dialogs/support-case/case-draft';
import {
  FINAL_STEPS,
  QUESTION_STEPS,
  provisioningContactFlow,
  provisioningContactMachine,
} from '../../../dialogs/provisioning-contact/machine';
import { choicesOf, choose, everyPath, flowInput, pathToEachState, run, translator, type Snapshot } from './helpers';

const view = (s: Snapshot): StepView => provisioningContactFlow.view(s);

/** Every key a view uses, with its params, rendered in one language: none missing, empty or half-done. */
function renderProblems(v: StepView, locale: (typeof LOCALES)[number]): string[] {
  const problems: string[] = [];
  const check = (what: string, key: string, params?: Line['params']) => {
    if (!translator.has(locale, key) && !translator.has(locale, `${key}_other`)) problems.push(`${locale} ${v.step} ${what}: missing ${key}`);
    const out = translator.t(locale, key, params);
    if (!out.trim()) problems.push(`${locale} ${v.step} ${what}: empty ${key}`);
    if (/\{\{|\$t\(|provisioning-contact:/.test(out)) problems.push(`${locale} ${v.step} ${what}: unresolved in ${key}: ${out}`);
  };
  v.lines.forEach((l) => check('line', l.key, l.params));
  v.choices.forEach((c) => check('choice', c.labelKey, c.params));
  v.links.forEach((l) => check('link', l.labelKey));
  v.facts.forEach((f) => {
    check('fact', f.labelKey);
    if (f.valueKey) check('fact value', f.valueKey);
  });
  check('help', v.helpKey);
  return problems;
}

const allStates = Object.keys(provisioningContactMachine.root.states).sort();

describe('provisioning-contact flow: the graph', () => {
  it('names every state as either a question or a final step', () => {
    expect(allStates).toEqual([...QUESTION_STEPS, ...FINAL_STEPS].sort());
  });

  it('reaches every state of the machine from the start', () => {
    const reached = new Set(pathToEachState().map((p) => String(p.state.value)));
    expect([...reached].sort()).toEqual(allStates);
  });

  const paths = everyPath();
  const complete = paths.filter((p) => p.state.status === 'done');

  it('walks paths to every final state, and every path ends in a final state', () => {
    expect(new Set(complete.map((p) => String(p.state.value)))).toEqual(new Set(FINAL_STEPS));
    // No dead ends: every vertex that is not final offers at least one option.
    for (const p of paths.filter((x) => x.state.status !== 'done')) expect(view(p.state).choices.length).toBeGreaterThan(0);
    expect(complete.length).toBeGreaterThan(100);
  });

  it('renders every step of every path in both languages with no missing, empty or unresolved text', () => {
    const problems = new Set<string>();
    const rendered = new Set<string>(); // many paths share a step's view: render each distinct view once
    for (const p of paths) {
      for (const step of [{ state: p.state }, ...p.steps]) {
        const v = view(step.state);
        const signature = JSON.stringify(v);
        if (rendered.has(signature)) continue;
        rendered.add(signature);
        for (const locale of LOCALES) renderProblems(v, locale).forEach((x) => problems.add(x));
      }
    }
    expect([...problems]).toEqual([]);
    expect(rendered.size).toBeGreaterThan(QUESTION_STEPS.length + FINAL_STEPS.length);
  });

  it('gives each final state an output with a clear outcome kind, matching its view', () => {
    for (const p of complete) {
      const output = p.state.output!;
      expect(output.outcome).toBe(view(p.state).outcome);
      expect(['resolved', 'redirected_admin', 'forwarded_to_owner', 'needs_case']).toContain(output.outcome);
    }
  });

  it('hands every needs-case path over to the support-case intake with a valid draft', () => {
    const handOffs = complete.filter((p) => p.state.value === 'needsCase');
    expect(handOffs.length).toBeGreaterThan(10);
    for (const p of handOffs) {
      const next = p.state.output!.next!;
      expect(next.flow).toBe('support-case');
      const intake = caseIntakeInput.parse(next.input);
      expect(intake.flowInput).toEqual(flowInput());
      expect(intake.draft.trail).toEqual(p.state.context.trail);
      // Everything but the details the intake asks for itself makes a valid case.
      expect(caseDraft.omit({ orderNumber: true }).partial().safeParse(intake.draft).success).toBe(true);
    }
  });

  it('keeps the case hand-off on offer at every other ending, with what was known there', () => {
    for (const p of complete.filter((x) => x.state.value !== 'needsCase')) {
      const offer = p.state.output!.onSupport as { flow: string; input: unknown };
      expect(offer.flow).toBe('support-case');
      expect(caseIntakeInput.parse(offer.input).draft.trail).toEqual(p.state.context.trail);
    }
  });

  it('offers "start over" at every final state and "talk to support" where a case still makes sense', () => {
    for (const p of complete) {
      const ids = view(p.state).choices.map((c) => c.id);
      expect(ids).toContain('cmd.restart');
      if (['adminPortal', 'forwardToOwner'].includes(String(p.state.value))) expect(ids).toContain('cmd.support');
    }
  });
});

describe('provisioning-contact flow: the decision tree', () => {
  it('N1 found in spam resolves', () => {
    const s = run(choose('never_arrived', 'found'));
    expect(s.value).toBe('emailFound');
    expect(s.output).toMatchObject({ outcome: 'resolved', resolution: 'email_found' });
  });

  it('N2 "not sure" explains where the status is, then asks again', () => {
    const s = run(choose('change_contact', 'not_sure'));
    expect(s.value).toBe('lineStatusHelp');
    expect(view(s).choices.map((c) => c.id)).toEqual(['awaiting', 'closed', 'cant_find']);
    expect(run(choose('change_contact', 'not_sure', 'closed')).value).toBe('closedOrder');
  });

  it('N2 a status still not found (or one the article does not cover) hands over with that as the reason', () => {
    const s = run(choose('change_contact', 'not_sure', 'cant_find'));
    expect(s.value).toBe('needsCase');
    expect(caseIntakeInput.parse(s.output!.next!.input).draft.reason).toBe('status_unknown');
    expect(view(s).lines[0]!.key).toBe('provisioning-contact:needsCase.reason.status_unknown');
  });

  it('case 1.1 forwards a ready message with the N5 steps for an awaiting line, and the Cloud/SaaS steps for a closed one', () => {
    const awaiting = run(choose('change_contact', 'awaiting', 'cannot_edit'));
    expect(awaiting.output).toMatchObject({ outcome: 'forwarded_to_owner', orderLineStatus: 'awaiting' });
    const message = translator.t('en', view(awaiting).lines[1]!.key);
    for (const label of ['“Edit”', '“Provisioning Contact Email”', '“Save”', '“Apply to all lines”', '“Done”']) expect(message).toContain(label);
    const closed = view(run(choose('change_contact', 'closed', 'cannot_edit')));
    expect(translator.t('uk', closed.lines[1]!.key)).toContain('сторінка Cloud/SaaS Subscription');
  });

  it('N4 onboarded redirects to admin.webex.com with a link', () => {
    const s = run(choose('change_contact', 'awaiting', 'can_edit', 'onboarded'));
    expect(s.output).toMatchObject({ outcome: 'redirected_admin', via: 'ponr_passed' });
    expect(view(s).links).toEqual([{ labelKey: 'provisioning-contact:links.adminPortal', url: 'https://admin.webex.com' }]);
  });

  it('N4 "not sure" explains how to tell, and "still not sure" goes on to the edit steps with a hint', () => {
    const s = run(choose('change_contact', 'awaiting', 'can_edit', 'not_sure', 'still_not_sure'));
    expect(s.value).toBe('editSteps');
    expect(s.context.answers.ponrPassed).toBe('unknown');
    expect(view(s).lines.map((l) => l.key)).toContain('provisioning-contact:editSteps.ifLocked');
  });

  it('N7 closed orders go to the Cloud/SaaS steps, and 2(a) the pop-up redirects to admin.webex.com', () => {
    const steps = run(choose('change_contact', 'closed', 'can_edit', 'not_onboarded'));
    expect(steps.value).toBe('closedEditSteps');
    const popup = run(choose('change_contact', 'closed', 'can_edit', 'not_onboarded', 'popup_admin'));
    expect(popup.output).toMatchObject({ outcome: 'redirected_admin', via: 'registration_popup' });
    expect(view(popup).lines[0]!.key).toBe('provisioning-contact:adminPortal.popup');
  });

  it('N5 -> N6 verified in Transaction Manager resolves', () => {
    const s = run(choose('change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'worked', 'updated'));
    expect(s.output).toMatchObject({ outcome: 'resolved', resolution: 'change_verified' });
  });

  it('N8 remembers the fixes tried, offers only the others, and hands over after the last one', () => {
    const start = ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed'];
    expect(view(run(choose(...start))).choices.map((c) => c.id)).toEqual(['cache_cookies', 'other_browser', 'incognito', 'none_helped']);
    const afterOne = run(choose(...start, 'incognito', 'failed'));
    expect(afterOne.value).toBe('browserFixes');
    expect(view(afterOne).choices.map((c) => c.id)).toEqual(['cache_cookies', 'other_browser', 'none_helped']);
    expect(translator.t('uk', view(afterOne).lines[0]!.key, view(afterOne).lines[0]!.params)).toContain('1 спосіб');
    const afterTwo = run(choose(...start, 'incognito', 'failed', 'cache_cookies', 'failed'));
    expect(translator.t('uk', view(afterTwo).lines[0]!.key, view(afterTwo).lines[0]!.params)).toContain('2 способи');
    // A fix already tried is not accepted again (an old button): it counts as not understood.
    expect(run(choose(...start, 'incognito', 'failed', 'incognito')).context.misses).toBe(1);
    const all = run(choose(...start, 'incognito', 'failed', 'cache_cookies', 'failed', 'other_browser', 'failed'));
    expect(all.value).toBe('needsCase');
    const draft = caseIntakeInput.parse(all.output!.next!.input).draft;
    expect(draft).toMatchObject({
      reason: 'fixes_failed',
      orderLineStatus: 'awaiting',
      canEditInCcw: 'yes',
      ponrPassed: 'no',
      fixesTried: ['edit_steps', 'incognito', 'cache_cookies', 'other_browser'],
      requestType: 'Change Provisioning Contact Email',
    });
  });

  it('N6 not updated after an edit hands over (verification failed); when only checking, it goes to make the change', () => {
    const afterEdit = run(choose('change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'worked', 'not_updated'));
    expect(caseIntakeInput.parse(afterEdit.output!.next!.input).draft.reason).toBe('verification_failed');
    expect(run(choose('check_change', 'not_updated')).value).toBe('orderLineStatus');
  });

  it('renders the closing policy as the article states it (days after the email is received), with plural days', () => {
    const v = view(run(choose('change_contact', 'closed')));
    const l = v.lines[0]!;
    expect(translator.t('en', l.key, l.params)).toContain('of receiving the provisioning email (7 days for A-Flex and A-Flex-3, 30 days for other Collaboration offers)');
    expect(translator.t('uk', l.key, l.params)).toContain('після отримання листа активації (7 днів для A-Flex і A-Flex-3, 30 днів для інших пропозицій Collaboration)');
  });
});

describe('provisioning-contact flow: global events at every question state', () => {
  const paths = pathToEachState().filter((p) => p.state.status !== 'done');

  it.each(QUESTION_STEPS.map((s) => [s]))('%s: BACK undoes the last answer and returns to its question', (step) => {
    const path = paths.find((p) => p.state.value === step)!;
    const ids = choicesOf(path);
    const back = run([...choose(...ids), { type: 'BACK' }]);
    if (ids.length === 0) {
      expect(back.value).toBe('entry');
      expect(view(back).lines[0]!.key).toBe('provisioning-contact:common.nothingToUndo');
      return;
    }
    const before = run(choose(...ids.slice(0, -1)));
    expect(back.value).toBe(before.value);
    expect(back.context.trail).toEqual(before.context.trail);
    expect(back.context.answers).toEqual(before.context.answers);
  });

  it.each(QUESTION_STEPS.map((s) => [s]))('%s: SUPPORT hands over with what is known and reason "requested"', (step) => {
    const path = paths.find((p) => p.state.value === step)!;
    const s = run([...choose(...choicesOf(path)), { type: 'SUPPORT' }]);
    expect(s.value).toBe('needsCase');
    const draft = caseIntakeInput.parse(s.output!.next!.input).draft;
    expect(draft.reason).toBe('requested');
    expect(draft.trail!.at(-1)).toEqual({ step, choice: 'cmd.support' });
  });

  it.each(QUESTION_STEPS.map((s) => [s]))('%s: RESTART starts afresh', (step) => {
    const path = paths.find((p) => p.state.value === step)!;
    const s = run([...choose(...choicesOf(path)), { type: 'RESTART' }]);
    expect(s.value).toBe('entry');
    expect(s.context.trail).toEqual([]);
  });

  it.each(QUESTION_STEPS.map((s) => [s]))('%s: misses re-prompt, the third offers support, and support then says why', (step) => {
    const path = paths.find((p) => p.state.value === step)!;
    const ids = choicesOf(path);
    const miss = { type: 'UNRECOGNISED', text: 'banana' } as const;
    const once = run([...choose(...ids), miss]);
    expect(once.value).toBe(step);
    expect(view(once).lines[0]!.key).toBe('provisioning-contact:common.reprompt');
    expect(view(once).choices.map((c) => c.id)).not.toContain('cmd.support');
    const thrice = run([...choose(...ids), miss, miss, miss]);
    expect(view(thrice).lines[0]!.key).toBe('provisioning-contact:common.repromptOfferSupport');
    expect(view(thrice).choices.at(-1)!.id).toBe('cmd.support');
    const handed = run([...choose(...ids), miss, miss, miss, { type: 'CHOOSE', choice: 'cmd.support' }]);
    expect(caseIntakeInput.parse(handed.output!.next!.input).draft.reason).toBe('not_understood');
  });

  it.each(QUESTION_STEPS.map((s) => [s]))('%s: has its own help text in both languages', (step) => {
    const path = paths.find((p) => p.state.value === step)!;
    const v = view(path.state);
    expect(v.helpKey).toBe(`provisioning-contact:${step}.help`);
    for (const locale of LOCALES) expect(translator.t(locale, v.helpKey).length).toBeGreaterThan(60);
  });

  it('help texts differ from step to step', () => {
    const helps = QUESTION_STEPS.map((s) => translator.t('en', `provisioning-contact:${s}.help`));
    expect(new Set(helps).size).toBe(helps.length);
  });
});
