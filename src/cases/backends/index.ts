/** The delivery backend for CASE_BACKEND; `local` has none (cases stay in the store, the person files them). */
import type { Config } from '../../config';
import type { Translator } from '../../i18n';
import { createEmailBackend } from './email';
import { createServiceNowBackend } from './servicenow';
import { createSmartBondingBackend } from './smartbonding';
import type { CaseBackend } from './types';
import { createWebhookBackend } from './webhook';

export * from './types';
export { createWebhookBackend, signBody, SIGNATURE_HEADER, IDEMPOTENCY_HEADER } from './webhook';
export { createServiceNowBackend, serviceNowFields, CORRELATION_DISPLAY } from './servicenow';
export { createEmailBackend, caseMessageId } from './email';
export { createSmartBondingBackend } from './smartbonding';

export type CaseBackendConfig = Pick<
  Config,
  | 'CASE_BACKEND'
  | 'CASE_WEBHOOK_URL'
  | 'CASE_WEBHOOK_SECRET'
  | 'SERVICENOW_INSTANCE_URL'
  | 'SERVICENOW_TABLE'
  | 'SERVICENOW_CATEGORY'
  | 'SERVICENOW_CONTACT_TYPE'
  | 'SERVICENOW_USERNAME'
  | 'SERVICENOW_PASSWORD'
  | 'CASE_SMTP_URL'
  | 'CASE_EMAIL_TO'
  | 'CASE_EMAIL_FROM'
  | 'SMARTBONDING_API_URL'
  | 'SMARTBONDING_TOKEN_URL'
  | 'SMARTBONDING_CLIENT_ID'
  | 'SMARTBONDING_CLIENT_SECRET'
>;

/** Config validation guarantees the variables of the chosen backend are set. */
export function createCaseBackend(config: CaseBackendConfig, translator: Translator): CaseBackend | undefined {
  switch (config.CASE_BACKEND) {
    case 'local':
      return undefined;
    case 'webhook':
      return createWebhookBackend({ url: config.CASE_WEBHOOK_URL!, secret: config.CASE_WEBHOOK_SECRET! });
    case 'servicenow':
      return createServiceNowBackend({
        instanceUrl: config.SERVICENOW_INSTANCE_URL!,
        table: config.SERVICENOW_TABLE,
        category: config.SERVICENOW_CATEGORY,
        contactType: config.SERVICENOW_CONTACT_TYPE,
        username: config.SERVICENOW_USERNAME!,
        password: config.SERVICENOW_PASSWORD!,
      });
    case 'email':
      return createEmailBackend({ smtpUrl: config.CASE_SMTP_URL!, to: config.CASE_EMAIL_TO!, from: config.CASE_EMAIL_FROM!, translator });
    case 'smartbonding':
      return createSmartBondingBackend({
        apiUrl: config.SMARTBONDING_API_URL,
        tokenUrl: config.SMARTBONDING_TOKEN_URL,
        clientId: config.SMARTBONDING_CLIENT_ID!,
        clientSecret: config.SMARTBONDING_CLIENT_SECRET!,
      });
  }
}
