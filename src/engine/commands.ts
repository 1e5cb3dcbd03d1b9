/** What a global command (back, start over, help, support, language, triage) does to a turn. */
import type { FlowDefinition, FlowEvent, Line, Locale, StepView } from '../../dialogs/flow';
import type { Command } from './recognizer';
import type { InboundUser } from './types';

export interface CommandOutcome {
  event?: FlowEvent;
  restart?: boolean;
  locale?: Locale;
  triage?: FlowDefinition;
}

export interface CommandContext {
  locale: Locale;
  /** The step the person stands at (its help text). */
  view: StepView;
  /** Lines said above the step this turn; a command adds its own. */
  prefix: Line[];
  user: InboundUser;
  /** The agent triage flow, when one is configured. */
  triageFlow?: FlowDefinition;
  /** Who may run agent triage (src/security/identity.ts). */
  isAgent: (user: InboundUser) => boolean;
}

export function runCommand(command: Command, ctx: CommandContext): CommandOutcome {
  const { locale, prefix } = ctx;
  switch (command) {
    case 'back':
      return { event: { type: 'BACK' } };
    case 'restart':
      prefix.push({ key: 'common:startedAgain' });
      return { restart: true };
    case 'help':
      prefix.push({ key: ctx.view.helpKey });
      return {};
    case 'support':
      return { event: { type: 'SUPPORT' } };
    case 'lang_en':
    case 'lang_uk':
    case 'language': {
      const next: Locale = command === 'lang_en' ? 'en' : command === 'lang_uk' ? 'uk' : locale === 'uk' ? 'en' : 'uk';
      prefix.push({ key: 'common:languageSwitched' });
      return { locale: next };
    }
    case 'triage': {
      if (!ctx.triageFlow) {
        prefix.push({ key: 'common:triageUnavailable' });
        return {};
      }
      if (!ctx.isAgent(ctx.user)) {
        prefix.push({ key: 'agent:notAgent' });
        return {};
      }
      return { triage: ctx.triageFlow };
    }
    default:
      return {};
  }
}
