/**
 * npm run cases -- list [--json]        cases that have not reached their backend (pending, failed)
 * npm run cases -- retry <reference>    a failed or pending case is made due now
 * npm run cases -- retry --failed       every failed case is made due now
 * npm run cases -- check                a dry run against CASE_BACKEND (ServiceNow: the look-up that
 *                                       keeps repeats from filing twice); writes nothing, exit 1 on a problem
 *
 * For operators, against the configured store (DATABASE_URL from the environment or `.env`, as
 * `npm start` reads it: the SQLite file by default, or PostgreSQL). The running bot's delivery worker
 * sends what is due at its next poll. Only delivery columns are read or printed: reference, backend,
 * status, attempts, times and the last error, never the case's names, emails or text.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatReference } from '../src/cases/schema';
import { createCaseBackend } from '../src/cases/backends/index';
import { loadConfig } from '../src/config';
import { createTranslator } from '../src/i18n';
import { createLogger } from '../src/log';
import { CaseRepository, type UndeliveredCase } from '../src/cases/repository';
import { createStore } from '../src/storage/index';

const USAGE = 'usage: npm run cases -- list [--json] | retry <reference> | retry --failed | check';

function usage(problem: string): never {
  process.stderr.write(`${problem}\n${USAGE}\n`);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { json: { type: 'boolean', default: false }, failed: { type: 'boolean', default: false } },
});
const [command, target, ...rest] = positionals;
if (rest.length) usage(`unexpected: ${rest.join(' ')}`);
if (command !== 'list' && command !== 'retry' && command !== 'check') usage(command ? `unknown command: ${command}` : 'no command');
if (command === 'check' && (target || values.failed || values.json)) usage('check takes nothing more');
if (command === 'list' && (target || values.failed)) usage('list takes no reference');
if (command === 'retry' && !!target === values.failed) usage('retry takes a reference or --failed');

/** PCE-000123, pce 123 or 123. */
function reference(text: string): string {
  const m = /^(?:PCE[-\s]?)?(\d{1,9})$/i.exec(text.trim());
  if (!m) usage(`not a case reference: ${text}`);
  return formatReference(Number(m[1]));
}

function table(cases: UndeliveredCase[], now: Date): string {
  const rows = cases.map((c) => [
    c.reference,
    c.status,
    c.backend,
    String(c.attempts),
    c.claimedUntil && Date.parse(c.claimedUntil) > now.getTime() ? 'sending now' : (c.nextAttemptAt ?? '-'),
    c.createdAt,
    c.lastError ?? '-',
  ]);
  const head = ['REFERENCE', 'STATUS', 'BACKEND', 'ATTEMPTS', 'NEXT ATTEMPT', 'OPENED', 'LAST ERROR'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

if (existsSync('.env')) process.loadEnvFile('.env');
const config = loadConfig();

if (command === 'check') {
  // No store needed: only the backend is asked, and nothing is written there.
  const backend = createCaseBackend(config, createTranslator());
  const problems = backend?.check ? await backend.check() : [];
  if (!backend?.check) process.stdout.write(`CASE_BACKEND=${config.CASE_BACKEND}: nothing to check.\n`);
  else if (!problems.length) process.stdout.write(`CASE_BACKEND=${config.CASE_BACKEND}: ready.\n`);
  else process.stderr.write(`CASE_BACKEND=${config.CASE_BACKEND} is not ready; cases wait until this is fixed:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(problems.length ? 1 : 0);
}
const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
const store = createStore(config, logger);
await store.open();
let exitCode = 0;
try {
  const repository = new CaseRepository(store);
  const now = new Date();
  if (command === 'list') {
    const cases = await repository.listUndelivered();
    if (values.json) {
      process.stdout.write(JSON.stringify(cases, null, 2) + '\n');
    } else if (!cases.length) {
      process.stdout.write('No pending or failed cases.\n');
    } else {
      const count = (s: string) => cases.filter((c) => c.status === s).length;
      process.stdout.write(table(cases, now));
      process.stdout.write(`${count('pending')} pending, ${count('failed')} failed\n`);
    }
  } else if (values.failed) {
    const due = await repository.retry({ allFailed: true }, now);
    process.stdout.write(due.length ? `${due.length} failed case(s) made due now: ${due.join(', ')}\n` : 'No failed cases.\n');
  } else {
    const ref = reference(target!);
    const [due] = await repository.retry({ reference: ref }, now);
    if (due) {
      process.stdout.write(`${due} is due now; the running bot sends it within CASE_DELIVERY_POLL_SECONDS (${config.CASE_DELIVERY_POLL_SECONDS} s).\n`);
    } else {
      const record = await repository.findByReference(ref);
      process.stderr.write(record ? `${ref} is ${record.delivery.status}; only pending or failed cases are retried.\n` : `No case ${ref}.\n`);
      exitCode = 1;
    }
  }
} finally {
  await store.close();
}
process.exitCode = exitCode;
