/** What the hand-off flow remembers (its machine context, stored with every snapshot). */
import type { BackAt, HandoffInput } from './steps';

export interface HandoffContext {
  input: HandoffInput;
  mode: 'self' | 'agent';
  /** The request the runtime kept (from `offer`), or the one the runtime told about. */
  handoff: HandoffInput['handoff'];
  /** Outside opening hours: when engineers are back (from the runtime's answer at `offer`). */
  back?: BackAt;
  /** The last message answered nothing here: the question is asked again with its options. */
  missed?: true;
  /**
   * The live chat is under way: the person's messages go to the engineer and the bot says nothing
   * more (the button to end it stays on the message that said who joined).
   */
  quiet?: true;
}
