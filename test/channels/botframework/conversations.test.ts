/**
 * Complete conversations over /api/messages, walking the real N1-N9 flow to its outcomes in both
 * languages: as Microsoft Teams (card presses through `value`, replies via the fake connector) and
 * as the Bot Framework Emulator (suggested actions typed back as free text, `expectReplies`).
 * Paths are written as choice ids; what is shown and typed is read from the bot's own replies and
 * the flow's view of the stored conversation, never hard-coded text.
 */
import { describe, expect, it } from 'vitest';
import type { OutcomeKind } from '../../../dialogs/flow';
import { provisioningContactFlow } from '../../../dialogs/provisioning-contact/machine';
import { supportCaseFlow } from '../../../dialogs/support-case';
import { escapeMarkdown } from '../../../src/channels/botframework/render';
import { createTranslator } from '../../../src/i18n';
import { Person, storedView, useBotWithConnector } from './harness';

const t = createTranslator();
const FLOWS = [provisioningContactFlow, supportCaseFlow];
const { bot, connector } = useBotWithConnector();

interface Path {
  name: string;
  choices: string[];
  outcome: OutcomeKind;
  /** A link the final message must carry as a real link. */
  link?: string;
}

const PATHS: Path[] = [
  { name: 'N1: the email was in spam', choices: ['never_arrived', 'found'], outcome: 'resolved' },
  {
    name: 'N7 -> N4: closed order already onboarded, sent to Control Hub',
    choices: ['change_contact', 'closed', 'can_edit', 'onboarded'],
    outcome: 'redirected_admin',
    link: 'https://admin.webex.com',
  },
  { name: 'N1 -> N2 -> N3: no edit access, forwarded to the order owner', choices: ['never_arrived', 'not_found', 'awaiting', 'cannot_edit'], outcome: 'forwarded_to_owner' },
  {
    name: 'N2 -> N5 -> N6: edited and verified in Transaction Manager',
    choices: ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'worked', 'updated'],
    outcome: 'resolved',
  },
];

const LANGUAGES = [
  { locale: 'en' as const, clientLocale: 'en-US' },
  { locale: 'uk' as const, clientLocale: 'uk-UA' },
];

describe.each(LANGUAGES)('complete conversations in $locale', ({ locale, clientLocale }) => {
  describe.each(PATHS)('$name', (path) => {
    it('as Teams: each press retires its card with the answer, and the flow ends at the outcome', async () => {
      const person = new Person(bot.url, { channelId: 'msteams', locale: clientLocale, connector });
      await person.join();
      expect(person.last.card?.version).toBe('1.5');

      for (const [i, id] of path.choices.entries()) {
        const card = person.last;
        const label = card.choices.find((c) => c.data?.choice === id)?.label;
        const { replies, refreshed } = await person.choose(id);
        expect(replies.length).toBeGreaterThan(0);
        // The press's invoke is answered with the card it becomes; nothing is updated through the connector.
        expect(refreshed?.actions, `press ${i + 1} retires its card`).toEqual([]);
        expect(JSON.stringify(refreshed)).toContain(JSON.stringify(t.t(locale, 'botframework:card.yourAnswer', { label })).slice(1, -1));
        expect(connector.updatesIn(person.conversationId)).toEqual([]);
      }

      const view = await storedView(bot.app, person.key, FLOWS);
      expect(view.outcome).toBe(path.outcome);
      const shown = view.lines.map((l) => t.t(locale, l.key, l.params));
      expect(person.last.text).toContain(shown.at(-1));
      if (path.link) expect(person.last.text).toMatch(new RegExp(`\\]\\(${path.link.replace(/[.]/g, '\\.')}\\)`));
    });

    it('as the Emulator: typing the offered answers reaches the same outcome', async () => {
      const person = new Person(bot.url, { channelId: 'emulator', locale: clientLocale });
      await person.join();

      for (const [i, id] of path.choices.entries()) {
        const view = await storedView(bot.app, person.key, FLOWS);
        const choice = view.choices.find((c) => c.id === id);
        expect(choice, `step ${view.step} offers ${id}`).toBeDefined();
        const label = t.t(locale, choice!.labelKey, choice!.params);
        expect(person.last.choices.map((c) => c.label)).toContain(label);
        // Free text: the label as the suggested action sends it, or typed in lower case.
        const { status, replies } = await person.say(i % 2 === 0 ? label : label.toLowerCase());
        expect(status).toBe(200);
        expect(replies).toHaveLength(1);
      }

      const view = await storedView(bot.app, person.key, FLOWS);
      expect(view.outcome).toBe(path.outcome);
      expect(person.last.text).toContain(escapeMarkdown(t.t(locale, view.lines.at(-1)!.key, view.lines.at(-1)!.params)));
      if (path.link) expect(person.last.text).toContain(`](${path.link})`);
    });
  });

  it('as Teams: fixes fail, a case is opened with a screenshot sent in the chat', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: clientLocale, connector });
    await person.join();
    for (const id of ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed', 'none_helped']) await person.choose(id);

    expect((await storedView(bot.app, person.key, FLOWS)).expects).toBe('text');
    for (const answer of ['SO 12345678', 'Sub204060', 'old.contact@example.com', 'new.contact@example.com']) {
      const { replies } = await person.say(answer);
      expect(replies).toHaveLength(1);
    }
    expect((await storedView(bot.app, person.key, FLOWS)).expects).toBe('attachment');
    await person.post(
      person.activity({
        text: '',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.teams.file.download.info',
            name: 'ccw-error.png',
            contentUrl: 'https://contoso.sharepoint.com/personal/olena/Documents/ccw-error.png',
            content: { downloadUrl: 'https://contoso.sharepoint.com/download/ccw-error.png', uniqueId: 'f-1', fileType: 'png' },
          },
        ],
      }),
    );
    expect(person.last.text).toContain('ccw-error.png');
    await person.choose('attachments_done');

    const summary = await storedView(bot.app, person.key, FLOWS);
    expect(summary.step).toBe('summary');
    expect(person.last.card?.body.some((b) => b.type === 'FactSet' && JSON.stringify(b).includes('ccw-error.png'))).toBe(true);
    await person.choose('confirm');

    const opened = await storedView(bot.app, person.key, FLOWS);
    expect(opened.outcome).toBe('case_opened');
    expect(person.last.text).toContain(t.t(locale, opened.lines[0]!.key, opened.lines[0]!.params));
  });
});

describe('after an outcome in Teams', () => {
  it('a command button on the final card (start over) starts again and retires that card with the pressed label', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    for (const id of PATHS[0]!.choices) await person.choose(id);
    const finalCard = person.last;
    const restart = finalCard.choices.find((c) => c.data?.choice === 'cmd.restart');
    expect(restart, 'the final card offers to start over').toBeDefined();

    const { refreshed } = await person.pressOn(finalCard, restart!);

    const view = await storedView(bot.app, person.key, FLOWS);
    expect(view.step).toBe('entry');
    expect(JSON.stringify(refreshed)).toContain(t.t('en', 'botframework:card.yourAnswer', { label: restart!.label }));
    expect(refreshed!.actions).toEqual([]);
  });
});
