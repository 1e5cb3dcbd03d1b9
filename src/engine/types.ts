/**
 * The engine's channel-neutral types. Channels map their wire format to an `Inbound` and render a
 * `TurnResult`; nothing in here knows about Bot Framework, Webex or a terminal.
 */
import type { AttachmentRef, Locale, OutcomeKind } from '../../dialogs/flow';
import type { TurnCommit } from '../storage/turn-commit';

export type { Locale, OutcomeKind, AttachmentRef };

export interface InboundUser {
  id: string;
  name?: string;
  email?: string;
  /**
   * Ids the channel has proven (src/security/identity.ts): an AAD object id from a validated Teams
   * token, an email Webex reported for a signed notification. Never a client-chosen id.
   */
  verified?: VerifiedId[];
}

export interface VerifiedId {
  scheme: 'aad' | 'email';
  value: string;
}

export interface Inbound {
  /** Channel id as the channel names itself: msteams, emulator, webex, directline, terminal. */
  channel: string;
  /** Conversation id within the channel; the store key is `${channel}:${conversationId}`. */
  conversationId: string;
  user: InboundUser;
  /** The channel's id of this activity/notification; the same id twice is handled once. */
  activityId?: string;
  /** The channel's locale hint as sent (`uk-UA`, `en-us`); normalised by the engine. */
  locale?: string;
  /** A message: free text and/or a button press. */
  text?: string;
  choice?: { id: string; step?: string };
  attachments?: AttachmentRef[];
  /**
   * `greeting`: the bot was added to a conversation (conversationUpdate); show the first step.
   * `event`: the bot starts a step on its own (./proactive.ts): `event` names the flow it starts over
   * the current one; `activityId` (`event:<name>:<id>`) makes a repeat of it handled once.
   */
  kind?: 'message' | 'greeting' | 'event';
  event?: ProactiveEvent;
}

/** Something that happened outside the conversation and starts a step of it (a case was closed). */
export interface ProactiveEvent {
  name: string;
  data?: unknown;
}

export interface RenderedChoice {
  id: string;
  label: string;
}

export interface RenderedLink {
  label: string;
  url: string;
}

export interface RenderedFact {
  label: string;
  value: string;
}

/** One bot message, translated, still free of any channel format. */
export interface RenderedMessage {
  paragraphs: string[];
  choices: RenderedChoice[];
  links: RenderedLink[];
  facts: RenderedFact[];
  /** The flow step this message asks about; buttons carry it back so stale presses are detected. */
  step?: string;
  expects?: 'choice' | 'text' | 'attachment';
}

export interface TurnResult {
  /** The same activity was already handled: channels send nothing. */
  duplicate: boolean;
  locale: Locale;
  conversationKey: string;
  messages: RenderedMessage[];
  /** The step the conversation now waits in, and the outcome when the flow has finished. */
  step: string;
  outcome?: OutcomeKind;
  /** When a button of `step` was pressed and accepted: what was chosen, for retiring the card. */
  answered?: { step: string; choiceId: string; label: string };
  /** The press came from an older card; it was not acted on. */
  stale?: boolean;
  /**
   * An `event` turn that did not run: no conversation is stored under the key (never started, or
   * deleted by retention), or no flow is registered for the event (or its data was refused).
   */
  skipped?: 'no-conversation' | 'unknown-event';
  /**
   * With `TurnOptions.keepReplies`: the replies were committed with the turn, kept under
   * (conversationKey, turn) until the channel records that it delivered them. `owed`: what else the
   * conversation owes, as the commit read it (pending replies of other turns, kept notices), when
   * the store could say.
   */
  storedReplies?: { turn: number; owed?: { replies: boolean; notices: boolean } };
}

/** How a channel asks for a turn beyond its Inbound. */
export interface TurnOptions {
  /**
   * Keep the turn's replies in its commit, so that a crash between the commit and the delivery
   * loses none (issue 15). `pending`: the channel delivers them after the commit, holding them
   * for `claim.leaseMs` (after that, a worker on any instance may); `answered`: they go back in
   * the response to this request and are kept only to answer a re-delivery the same.
   */
  keepReplies?: { state: 'pending'; claim: { by: string; leaseMs: number } } | { state: 'answered' };
  /** A channel's own rows for this turn: committed with it, or not at all. */
  alsoCommit?: ChannelCommit;
  /**
   * A channel's rows that depend on something it can name by a short mark (the Bot Framework
   * channel: a conversation's reference, by its route): committed with the turn, and the mark stored
   * with the conversation, only when the stored mark differs (a new conversation, a new route). The
   * turn's load reads the mark anyway, so rows that are current cost no statement (issue 19).
   */
  marked?: { mark: string; rows: () => ChannelCommit };
  /**
   * Who the person is beyond what the message says (Teams: the email, from the connector), asked at
   * most once and only when the turn needs it: a run may begin (a new conversation, starting over,
   * agent triage, anything after an ending, an event; the run keeps who the person was), or a
   * runtime piece asks (`TurnScope.identified`: a case, a hand-off, a masked comment). A returning
   * person in the middle of a run costs no look-up (issue 19).
   */
  identify?: () => Promise<KnownPerson | undefined>;
}

/** What a channel learnt of the person beyond the message. */
export interface KnownPerson {
  name?: string;
  email?: string;
}

/** What a channel may add to a turn's commit: fields features declare on `TurnCommit`, never the turn's own. */
export type ChannelCommit = Partial<Omit<TurnCommit, 'conversation' | 'transcript' | 'activityKey' | 'userLocale' | 'funnel' | 'replies'>>;
