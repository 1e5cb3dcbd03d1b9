/** What the person added in the chat, as a note a support engineer reads (Smart Bonding `Remarks`, a ServiceNow comment). */
import type { CaseAddition } from './types';

export function additionNote(addition: CaseAddition): string {
  const files = addition.attachments.map((a) => `${a.name} (${a.contentType}) ${a.url}`);
  return [`Added by the customer in the chat (addition ${addition.additionId}):`, addition.text, ...(files.length ? ['Attachments:', ...files] : [])]
    .filter((line) => line !== '')
    .join('\n');
}
