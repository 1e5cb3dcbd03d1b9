/**
 * The answer to a press of an `Action.Execute` button (Teams' `adaptiveCard/action` invoke): what the
 * card becomes, carried in the HTTP response, so Teams replaces the card in place without a connector
 * call (an `Action.Submit` press needs an update of the message: one more call per turn, issue 19).
 * Every such invoke is answered, or Teams shows the press as failed: with the card it becomes, or
 * with an error the card shows.
 */
import { ActivityTypes, type TurnContext } from 'botbuilder';

const CARD = 'application/vnd.microsoft.card.adaptive';
const ERROR = 'application/vnd.microsoft.error';

function answer(context: TurnContext, status: number, body: Record<string, unknown>): Promise<unknown> {
  // botbuilder keeps an invokeResponse activity for the turn's HTTP response instead of sending it.
  return context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status, body } });
}

/** The pressed card becomes `card` (Adaptive Card JSON). */
export function refreshCard(context: TurnContext, card: Record<string, unknown>): Promise<unknown> {
  return answer(context, 200, { statusCode: 200, type: CARD, value: card });
}

/** The press failed or was refused; Teams shows `message` on the card. */
export function refuseCardAction(context: TurnContext, status: number, code: string, message: string): Promise<unknown> {
  return answer(context, status, { statusCode: status, type: ERROR, value: { code, message } });
}
