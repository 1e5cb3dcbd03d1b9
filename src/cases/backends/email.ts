/**
 * `email`: one message to the support mailbox over SMTP (nodemailer): the English summary in the
 * body, the case record attached as JSON. The Message-ID is derived from the reference, so a
 * mailbox or ticketing system that de-duplicates by Message-ID files a repeat once.
 */
import type { Transporter } from 'nodemailer';
import type { Translator } from '../../i18n';
import type { CasePayload } from '../schema';
import { DeliveryError, type CaseBackend, type DeliveryResult } from './types';
import { importPackage } from '../../import-package';

export interface EmailOptions {
  /** nodemailer connection URL: smtp://user:pass@host:587 or smtps://…:465 */
  smtpUrl: string;
  to: string;
  from: string;
  translator: Translator;
}

export function caseMessageId(reference: string, from: string): string {
  const domain = from.split('@')[1] ?? 'pce-support-bot.invalid';
  return `<${reference.toLowerCase()}.case@${domain}>`;
}

export function createEmailBackend(opts: EmailOptions): CaseBackend {
  // nodemailer is loaded on first use: a bot with another backend never pays for it at start (issue 19).
  let made: Promise<Transporter> | undefined;
  const transporter = () => (made ??= importPackage<typeof import('nodemailer')>('nodemailer').then((m) => m.default.createTransport(opts.smtpUrl)));
  return {
    name: 'email',
    async deliver(payload: CasePayload): Promise<DeliveryResult> {
      const c = payload.case;
      const t = (key: string, params?: Record<string, unknown>) => opts.translator.t('en', `cases:email.${key}`, params);
      try {
        const transport = await transporter();
        await transport.sendMail({
          from: opts.from,
          to: opts.to,
          subject: t('subject', { reference: c.reference, orderNumber: c.orderNumber ?? 'not known' }),
          text: `${payload.summary}\n\n${t('attachmentNote')}\n`,
          messageId: caseMessageId(c.reference, opts.from),
          headers: { 'X-Case-Reference': c.reference },
          attachments: [{ filename: `${c.reference}.json`, contentType: 'application/json', content: JSON.stringify(c, null, 2) }],
        });
      } catch (err) {
        const e = err as { responseCode?: number; code?: string };
        // 5xx SMTP replies are final (mailbox unknown, message refused); 4xx and connection problems pass.
        const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
        throw new DeliveryError(`The SMTP server refused or could not be reached (${e.responseCode ?? e.code ?? 'error'})`, permanent, { cause: err });
      }
      return {};
    },
    async close() {
      if (made) (await made.catch(() => undefined))?.close();
    },
  };
}
