/**
 * The connector calls every turn makes (post a reply, post to the conversation, update a card, look
 * a new person up in Teams) sent as plain JSON through a lean copy of the connector client's HTTP
 * pipeline (./lean-pipeline.ts): the same authentication (the client's credentials sign each
 * request), retries (408, 429 with Retry-After, 5xx, network errors), redirects, user agent and
 * proxy, without the Azure model serializer that walks the Activity mapper field by field on every
 * call (the bot's CPU per turn fell by a fifth in the bench, issue 19) nor the compat layers around
 * the SDK's pipeline (two fifths of the bytes of a call). The answers and the errors keep the SDK's
 * shape: `{ id }` or the member, and a `RestError` with `statusCode` for a refused call.
 * Calls with options or a callback go to the SDK as they are.
 */
import { createHttpHeaders, createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import type { Activity } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import { leanSendFor, type LeanSend } from './lean-pipeline';

/** The header the SDK adds to these calls, naming the conversation (botframework-connector's ConversationConstants). */
const CONVERSATION_ID_HEADER = 'x-ms-conversation-id';

type Conversations = ConnectorClient['conversations'];

/** `{serviceUrl}/v3/conversations/{conversationId}/{collection}[/{id}]`, the ids encoded as the SDK does. */
function urlOf(serviceUrl: string, conversationId: string, collection: 'activities' | 'members', id?: string): string {
  const base = serviceUrl.endsWith('/') ? serviceUrl : `${serviceUrl}/`;
  const list = `${base}v3/conversations/${encodeURIComponent(conversationId)}/${collection}`;
  return id === undefined ? list : `${list}/${encodeURIComponent(id)}`;
}

/** One call; the JSON answer (null when empty), or a RestError with the status the connector answered. */
async function call(sendRequest: LeanSend, method: 'GET' | 'POST' | 'PUT', url: string, conversationId: string, activity?: Partial<Activity>): Promise<unknown> {
  const request = createPipelineRequest({
    url,
    method,
    // As the SDK's client allows for a service URL that is http (the Emulator, a connector on this machine).
    allowInsecureConnection: url.startsWith('http:'),
    // A Buffer: its length is the Content-Length as it is (a string is copied once more to measure it).
    ...(activity ? { body: Buffer.from(JSON.stringify(activity)) } : {}),
    headers: createHttpHeaders({
      ...(activity ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      accept: 'application/json',
      [CONVERSATION_ID_HEADER]: conversationId,
    }),
  });
  const response = await sendRequest(request);
  if (response.status < 200 || response.status >= 300) {
    throw new RestError(`The connector answered ${response.status} to ${method} ${activity ? 'of an activity' : 'of a member'}.`, { statusCode: response.status, code: String(response.status) });
  }
  return response.bodyAsText ? (JSON.parse(response.bodyAsText) as unknown) : null;
}

async function send(sendRequest: LeanSend, method: 'POST' | 'PUT', url: string, conversationId: string, activity: Partial<Activity>): Promise<{ id?: string }> {
  const body = (await call(sendRequest, method, url, conversationId, activity)) as { id?: unknown } | null;
  return typeof body?.id === 'string' ? { id: body.id } : {};
}

/** Replaces the three hot calls of this (cached, ours alone) client's conversations, made for `serviceUrl`, with the lean ones. */
export function useLeanConversations(client: ConnectorClient, serviceUrl: string): ConnectorClient {
  const conversations = client.conversations;
  const lean = leanSendFor(client);
  const sdk = {
    reply: conversations.replyToActivity.bind(conversations) as (...args: unknown[]) => unknown,
    send: conversations.sendToConversation.bind(conversations) as (...args: unknown[]) => unknown,
    update: conversations.updateActivity.bind(conversations) as (...args: unknown[]) => unknown,
    member: conversations.getConversationMember.bind(conversations) as (...args: unknown[]) => unknown,
  };
  conversations.replyToActivity = ((conversationId: string, activityId: string, activity: Partial<Activity>, ...rest: unknown[]) =>
    rest.length ? sdk.reply(conversationId, activityId, activity, ...rest) : send(lean, 'POST', urlOf(serviceUrl, conversationId, 'activities', activityId), conversationId, activity)) as Conversations['replyToActivity'];
  conversations.sendToConversation = ((conversationId: string, activity: Partial<Activity>, ...rest: unknown[]) =>
    rest.length ? sdk.send(conversationId, activity, ...rest) : send(lean, 'POST', urlOf(serviceUrl, conversationId, 'activities'), conversationId, activity)) as Conversations['sendToConversation'];
  conversations.updateActivity = ((conversationId: string, activityId: string, activity: Partial<Activity>, ...rest: unknown[]) =>
    rest.length ? sdk.update(conversationId, activityId, activity, ...rest) : send(lean, 'PUT', urlOf(serviceUrl, conversationId, 'activities', activityId), conversationId, activity)) as Conversations['updateActivity'];
  // TeamsInfo.getMember in a chat (a new person's email); its answer is read by ./members.ts.
  conversations.getConversationMember = ((conversationId: string, memberId: string, ...rest: unknown[]) =>
    rest.length
      ? sdk.member(conversationId, memberId, ...rest)
      : call(lean, 'GET', urlOf(serviceUrl, conversationId, 'members', memberId), conversationId)) as Conversations['getConversationMember'];
  return client;
}
