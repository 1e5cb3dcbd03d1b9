/**
 * The connector calls every turn makes (post a reply, post to the conversation, update a card) sent
 * as plain JSON through the connector client's own HTTP pipeline: the same authentication (the
 * client's credentials sign each request), retries (408, 429 with Retry-After, 5xx, network errors),
 * user agent and proxy, without the Azure model serializer that walks the Activity mapper field by
 * field on every call (about 6 % of a turn's CPU in the bench profile, issue 19). The answer and the
 * errors keep the SDK's shape: `{ id }`, and a `RestError` with `statusCode` for a refused call.
 * Calls with options or a callback go to the SDK as they are.
 */
import { createHttpHeaders, createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import type { Activity } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';

/** The header the SDK adds to these calls, naming the conversation (botframework-connector's ConversationConstants). */
const CONVERSATION_ID_HEADER = 'x-ms-conversation-id';

type Conversations = ConnectorClient['conversations'];

function urlOf(serviceUrl: string, conversationId: string, activityId?: string): string {
  const base = serviceUrl.endsWith('/') ? serviceUrl : `${serviceUrl}/`;
  const activities = `${base}v3/conversations/${encodeURIComponent(conversationId)}/activities`;
  return activityId === undefined ? activities : `${activities}/${encodeURIComponent(activityId)}`;
}

async function send(client: ConnectorClient, method: 'POST' | 'PUT', url: string, conversationId: string, activity: Partial<Activity>): Promise<{ id?: string }> {
  const request = createPipelineRequest({
    url,
    method,
    // As the SDK's client allows for a service URL that is http (the Emulator, a connector on this machine).
    allowInsecureConnection: url.startsWith('http:'),
    body: JSON.stringify(activity),
    headers: createHttpHeaders({ 'content-type': 'application/json; charset=utf-8', accept: 'application/json', [CONVERSATION_ID_HEADER]: conversationId }),
  });
  const response = await client.sendRequest(request);
  if (response.status < 200 || response.status >= 300) {
    throw new RestError(`The connector answered ${response.status} to ${method} of an activity.`, { statusCode: response.status, code: String(response.status) });
  }
  const body = response.bodyAsText ? (JSON.parse(response.bodyAsText) as { id?: unknown } | null) : null;
  return typeof body?.id === 'string' ? { id: body.id } : {};
}

/** Replaces the three hot calls of this (cached, ours alone) client's conversations, made for `serviceUrl`, with the lean ones. */
export function useLeanConversations(client: ConnectorClient, serviceUrl: string): ConnectorClient {
  const conversations = client.conversations;
  const sdk = {
    reply: conversations.replyToActivity.bind(conversations) as (...args: unknown[]) => unknown,
    send: conversations.sendToConversation.bind(conversations) as (...args: unknown[]) => unknown,
    update: conversations.updateActivity.bind(conversations) as (...args: unknown[]) => unknown,
  };
  conversations.replyToActivity = ((conversationId: string, activityId: string, activity: Partial<Activity>, ...rest: unknown[]) =>
    rest.length ? sdk.reply(conversationId, activityId, activity, ...rest) : send(client, 'POST', urlOf(serviceUrl, conversationId, activityId), conversationId, activity)) as Conversations['replyToActivity'];
  conversations.sendToConversation = ((conversationId: string, activity: Partial<Activity>, ...rest: unknown[]) =>
    rest.length ? sdk.send(conversationId, activity, ...rest) : send(client, 'POST', urlOf(serviceUrl, conversationId), conversationId, activity)) as Conversations['sendToConversation'];
  conversations.updateActivity = ((conversationId: string, activityId: string, activity: Partial<Activity>, ...rest: unknown[]) =>
    rest.length ? sdk.update(conversationId, activityId, activity, ...rest) : send(client, 'PUT', urlOf(serviceUrl, conversationId, activityId), conversationId, activity)) as Conversations['updateActivity'];
  return client;
}
