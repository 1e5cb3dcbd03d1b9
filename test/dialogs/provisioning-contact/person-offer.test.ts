/**
 * N9 with hand-offs to people configured (issue 22): the tree's N9 hands over to the hand-off flow's
 * offer with everything known; without the feature, or when the person asked for support, it goes to
 * the case intake at once, as before. Pure: the machine only.
 */
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { handoffInput } from '../../../dialogs/handoff/steps';
import { offeringAPerson, provisioningContactFlow } from '../../../dialogs/provisioning-contact/machine';
import { caseIntakeInput } from '../../../dialogs/support-case/case-draft';
import { choose, flowInput } from './helpers';
import type { FlowEvent } from '../../../dialogs/flow';

function runWith(flow: typeof provisioningContactFlow, events: FlowEvent[], input = flowInput()) {
  const actor = createActor(flow.machine, { input }).start();
  for (const e of events) actor.send(e);
  const s = actor.getSnapshot();
  actor.stop();
  return s;
}

const statusUnknown = choose('change_contact', 'not_sure', 'cant_find');
const withPerson = offeringAPerson(provisioningContactFlow);

describe('N9 with hand-offs configured', () => {
  it('hands over to the hand-off offer with the draft a case would get', () => {
    const s = runWith(withPerson, statusUnknown);
    expect(s.value).toBe('needsCase');
    const next = s.output!.next!;
    expect(next.flow).toBe('handoff');
    const input = handoffInput.parse(next.input);
    expect(input.stage).toBe('offer');
    expect(input.flowInput.user.id).toBe('person-1');
    expect(input.draft).toMatchObject({ reason: 'status_unknown', orderLineStatus: 'unknown', requestType: 'Change Provisioning Contact Email' });
    expect(input.draft.trail?.map((e) => e.choice)).toEqual(['change_contact', 'not_sure', 'cant_find']);
    // The ending still says and counts what it did.
    expect(s.output!.outcome).toBe('needs_case');
    expect(withPerson.view(s).lines[0]!.key).toBe('provisioning-contact:needsCase.reason.status_unknown');
  });

  it('goes to the case intake at once when the person asked for support', () => {
    const s = runWith(withPerson, [...choose('change_contact'), { type: 'SUPPORT' }]);
    expect(s.value).toBe('needsCase');
    expect(s.output!.next!.flow).toBe('support-case');
    expect(caseIntakeInput.parse(s.output!.next!.input).draft.reason).toBe('requested');
  });

  it('in agent mode still offers the case to open for the customer, with no person', () => {
    const s = runWith(withPerson, statusUnknown, { ...flowInput(), mode: 'agent' });
    expect(s.output!.next).toBeUndefined();
    expect(s.output!.onSupport!.flow).toBe('support-case');
  });

  it('is off without the feature: the same path goes to the case intake at once', () => {
    const s = runWith(provisioningContactFlow, statusUnknown);
    expect(s.output!.next!.flow).toBe('support-case');
    expect(s.context.personOffered).toBeUndefined();
  });
});
