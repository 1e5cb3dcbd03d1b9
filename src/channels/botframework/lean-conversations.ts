/**
 * The connector calls every turn makes (post a reply, post to the conversation, update a card, look
 * a new person up in Teams) sent as plain JSON through the connector client's own HTTP pipeline: the same authentication (the
 * client's credentials sign each request), retries (408, 429 with Retry-After, 5xx, network errors),
 * user agent and proxy, without the Azure model serializer that walks the Activity mapper field by
 * field on every call (the bot's CPU per turn fell by a fifth in the bench, issue 19). The answers and
 * the errors keep the SDK's shape: `{ id }` or the member, and a `RestError` with `statusCode` for a
 * refused call.
 * Calls with options or a callback go to the SDK as they are.
 */
import { createHttpHeaders, createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import type { Activity } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';

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
async function call(client: ConnectorClient, method: 'GET' | 'POST' | 'PUT', url: string, conversationId: string, activity?: Partial<Activity>): Promise<unknown> {
  const request = createPipelineRequest({
    url,
    method,
    // As the SDK's client allows for a service URL that is http (the Emulator, a connector on this machine).
    allowInsecureConnection: url.startsWith('http:'),
    ...(activity ? { body: JSON.stringify(activity) } : {}),
    headers: createHttpHeaders({
      ...(activity ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      accept: 'application/json',
      [CONVERSATION_ID_HEADER]: conversationId,
    }),
  });
  const response = await client.sendRequest(request);
  if (response.status < 200 || response.status >= 300) {
    throw new RestError(`The connector answered ${response.status} to ${method} ${activity ? 'of an activity' : 'of a member'}.`, { statusCode: response.status, code: String(response.status) });
  }
  return response.bodyAsText ? (JSON.parse(response.bodyAsText) as unknown) : null;
}

async function send(client: ConnectorClient, method: 'POST' | 'PUT', url: string, conversationId: string, activity: Partial<Activity>): Promise<{ id?: string }> {
  const body = (await call(client, method, url, conversationId, activity)) as { id?: unknown } | null;
  return typeof body?.id === 'string' ? { id: body.id } : {};
}

/** Replaces the three hot calls of this (cached, ours alone) client's conversations, made for `serviceUrl`, with the lean ones. */
export function useLeanConversations(client: ConnectorClient, serviceUrl: string): ConnectorClient {
  const conversations = client.conversations;
  const sdk = {
    reply: conversations.replyToActivity.bind(conversations) as (...args: unknown[]) => unknown,
    send: conversations.sendToConversation.bind(conversations) as (...args: unknown[]) => unknown,
    update: conversations.updateActivity.bind(conversations) as (...args: unknown[]) => unknown,
    member: conversations.getConversationMember.bind(conversations) as (...args: unknown[]) => unknown,
  };
  conversations.replyToActivity = ((conversationId: string, activityId: string, activity: Partial<Activity>, ...rest: unknown[]) =>
    rest.length ? sdk.reply(conversationId, activityId, activity, ...rest) : send(client, 'POST', urlOf(serviceUrl, conversationId, 'activities', activityId), conversationId, activity)) as Conversations['replyToActivity'];
  conversations.sendToConversation = ((conversationId: string, activity: Partial<Activity>, ...rest: unknown[]) =>
    rest.length ? sdk.send(conversationId, activity, ...rest) : send(client, 'POST', urlOf(serviceUrl, conversationId, 'activities'), conversationId, activity)) as Conversations['sendToConversation'];
  conversations.updateActivity = ((conversationId: string, activityId: string, activity: Partial<Activity>, ...rest: unknown[]) =>
    rest.length ? sdk.update(conversationId, activityId, activity, ...rest) : send(client, 'PUT', urlOf(serviceUrl, conversationId, 'activities', activityId), conversationId, activity)) as Conversations['updateActivity'];
  // TeamsInfo.getMember in a chat (a new person's email); its answer is read by ./members.ts.
  conversations.getConversationMember = ((conversationId: string, memberId: string, ...rest: unknown[]) =>
    rest.length
      ? sdk.member(conversationId, memberId, ...rest)
      : call(client, 'GET', urlOf(serviceUrl, conversationId, 'members', memberId), conversationId)) as Conversations['getConversationMember'];
  return client;
}
