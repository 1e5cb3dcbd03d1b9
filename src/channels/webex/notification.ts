/**
 * A Webex webhook notification as the channel reads it: validated at the edge (the webhook) and again
 * when the inbox hands a stored one back, since a row written by an older release may differ.
 */
import { z } from 'zod';
import { hasControlCharacter } from '../../engine/text';
import type { InboxClaim } from './claim';

/** The channel of Webex turns; a conversation is a space, keyed `webex:<roomId>`. */
export const WEBEX_CHANNEL_ID = 'webex';

/** A Webex id: never a control character (issue 15, item 3; PostgreSQL cannot store a NUL), else 400. */
export const webexId = () => z.string().refine((s) => !hasControlCharacter(s), 'an id holds a control character');

export const notificationSchema = z.looseObject({
  id: webexId().optional(),
  resource: webexId(),
  event: webexId(),
  /** Who caused the event (for a membership: who added the bot). */
  actorId: webexId().optional(),
  data: z.looseObject({
    id: webexId().min(1),
    roomId: webexId().optional(),
    roomType: webexId().optional(),
    personId: webexId().optional(),
    personEmail: webexId().optional(),
    messageId: webexId().optional(),
    /**
     * When the event happened. The notification's own top-level `created` is the webhook's creation
     * date (Webex spreads the webhook into every notification), so it says nothing about the event.
     */
    created: z
      .string()
      .refine((s) => Number.isFinite(Date.parse(s)))
      .optional(),
  }),
});
export type Notification = z.infer<typeof notificationSchema>;

/** A notification to handle; `turned`: its turn committed before, but the replies may not have gone out. */
export interface Job {
  n: Notification;
  status: 'pending' | 'turned';
}

/** A job as it is handled: with this instance's claim on it, kept (renewed) until it is done. */
export interface ClaimedJob extends Job {
  claim: InboxClaim;
}

/** What the inbox keeps of a notification: the ids it is handled by, not the email Webex also sends. */
export function storable(n: Notification): Notification {
  const { id, roomId, roomType, personId, messageId } = n.data;
  return { resource: n.resource, event: n.event, actorId: n.actorId, data: { id, roomId, roomType, personId, messageId } };
}
