/**
 * What the person sees at each step of the provisioning-contact flow, derived from the step table:
 * pure, keys and choice ids only. Around the table's paragraphs it adds what any question shows (a
 * re-prompt after a miss, "nothing to go back to") and, for an agent, the agent's wording.
 */
import type { Line, StepView } from '../flow';
import { keysIn, stepView } from '../kit';
import { agentQuestionLines, caseNotes, customerFacts, jumpChoices, openCaseForCustomerChoice } from './agent-view';
import { caseFacts } from './answers';
import type { ProvisioningContactContext } from './context';
import {
  CMD_RESTART,
  CMD_SUPPORT,
  ENDINGS,
  MISSES_BEFORE_SUPPORT_OFFER,
  PROVISIONING_SENDER,
  QUESTIONS,
  type Ending,
  type FinalStep,
  type Question,
  type QuestionStep,
  type Say,
} from './steps';

type Context = ProvisioningContactContext<QuestionStep>;

const { key, line, option } = keysIn('provisioning-contact:');
const restartChoice = option(CMD_RESTART, 'common.choices.restart');
const supportChoice = option(CMD_SUPPORT, 'common.choices.support');

/** The table's paragraphs of a step, with their keys in full. */
function said(step: string, says: Say[]): Line[] {
  return says.map((s) => (typeof s === 'string' ? line(`${step}.${s}`) : { ...s, key: key(`${step}.${s.key}`) }));
}

function questionView(step: QuestionStep, c: Context): StepView {
  const question: Question = QUESTIONS[step];
  const prefix: Line[] = [];
  if (c.notice === 'nothingToUndo') prefix.push({ ...line('common.nothingToUndo'), notice: true });
  const choices = (question.offers?.(c) ?? Object.keys(question.options)).map((id) => option(id, `${step}.choices.${id}`));
  if (c.misses > 0) {
    if (c.misses >= MISSES_BEFORE_SUPPORT_OFFER) choices.push(supportChoice);
    prefix.push({
      ...line(c.misses >= MISSES_BEFORE_SUPPORT_OFFER ? 'common.repromptOfferSupport' : 'common.reprompt', { count: choices.length }),
      listChoices: true,
      notice: true,
    });
  }
  const agent = c.mode === 'agent';
  return stepView(step, {
    lines: [...prefix, ...(agent ? agentQuestionLines(step, { sender: PROVISIONING_SENDER }) : said(step, question.say(c)))],
    choices: agent ? [...choices, ...jumpChoices(c)] : choices,
    links: question.links,
    facts: agent ? customerFacts(c) : [],
    helpKey: key(`${step}.help`),
  });
}

/** An ending; an agent gets the case notes to paste and opens the case for the customer from here. */
function endingView(step: FinalStep, c: Context): StepView {
  const ending: Ending = ENDINGS[step];
  const lines = said(step, ending.say(c));
  const agent = c.mode === 'agent';
  return stepView(step, {
    lines: agent ? [...lines, ...caseNotes(c, caseFacts(c.answers), step)] : lines,
    choices: agent ? [openCaseForCustomerChoice, restartChoice] : ending.offersSupport ? [restartChoice, supportChoice] : [restartChoice],
    links: ending.links,
    facts: agent ? [...customerFacts(c), ...caseFacts(c.answers)] : ending.facts?.(c),
    helpKey: key(`${step}.help`),
    outcome: ending.outcome,
  });
}

export function provisioningContactView(snapshot: { value: unknown; context: Context }): StepView {
  const step = String(snapshot.value);
  if (Object.hasOwn(QUESTIONS, step)) return questionView(step as QuestionStep, snapshot.context);
  if (Object.hasOwn(ENDINGS, step)) return endingView(step as FinalStep, snapshot.context);
  // The engine calls view() on restored snapshots to prove their state still exists.
  throw new Error(`provisioning-contact: unknown step "${step}"`);
}
