/**
 * `npm run cases -- list | retry <reference> | retry --failed`, spawned as an operator runs it,
 * against a real store named by DATABASE_URL (a SQLite file; a PostgreSQL schema). A failed case the
 * operator retried is then delivered by a worker to a real receiver.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookBackend } from '../../src/cases/backends/index';
import { CaseOutbox } from '../../src/cases/outbox';
import { loadConfig } from '../../src/config';
import { CaseRepository, type UndeliveredCase } from '../../src/cases/repository';
import { createStore, type SqlStore } from '../../src/storage/index';
import { fixtureTranslator } from '../dialogs/support-case/fixture-entry';
import { dropPostgresSchema, silentLogger, testDir, TEST_DATABASE_URL, uniqueName } from '../support';
import { CREATED_AT, httpReceiver, json, seedCase, webhookReceiver } from './helpers';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const SCRIPT = join(ROOT, 'scripts', 'cases.ts');
const SECRET = 'cli-test-webhook-secret-0123';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run cases -- <args>` in `cwd` (an empty directory: no `.env` of the developer's is read) with only `env` set. */
function runCases(cwd: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((done) => {
    execFile(TSX, [SCRIPT, ...args], { cwd, env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', ...env } }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`npm run cases on ${dialect}`, () => {
    let dir: string;
    let env: Record<string, string>;
    let store: SqlStore;
    let repo: CaseRepository;

    beforeEach(async () => {
      dir = testDir('cases-cli-').path;
      env =
        dialect === 'sqlite'
          ? { DATABASE_URL: `sqlite:${join(dir, 'bot.sqlite')}` }
          : { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: uniqueName('cases_cli') };
      store = createStore(loadConfig({ ...env, LOG_LEVEL: 'silent' }), silentLogger) as SqlStore;
      await store.open();
      repo = new CaseRepository(store);
    });
    afterEach(async () => {
      await store.close();
      if (dialect === 'postgres') await dropPostgresSchema(env.DATABASE_SCHEMA!);
    });

    const cases = (...args: string[]): Promise<Run> => runCases(dir, args, env);

    /** One delivered, one pending after an unreachable backend, two rejected. */
    async function seedOutbox() {
      const at = new Date(CREATED_AT);
      const [delivered, waiting, rejected, invalid] = [await seedCase(store), await seedCase(store), await seedCase(store), await seedCase(store)];
      await repo.claimDue({ workerId: 'w', now: at, leaseMs: 60_000, limit: 10 });
      await repo.markDelivered(delivered.reference, 'w', { externalId: 'TCK-1', at });
      await repo.markRetry(waiting.reference, 'w', { error: 'The case webhook could not be reached (ECONNREFUSED)', nextAttemptAt: new Date('2099-01-01T00:00:00.000Z'), at });
      await repo.markFailed(rejected.reference, 'w', { error: 'The case webhook answered HTTP 422', at });
      await repo.markFailed(invalid.reference, 'w', { error: 'The case webhook answered HTTP 400', at });
      return { delivered, waiting, rejected, invalid };
    }

    it('lists the cases that have not reached their backend, with what operators need and no personal data', async () => {
      const { delivered, waiting, rejected, invalid } = await seedOutbox();
      const listed = await cases('list');
      expect(listed).toMatchObject({ code: 0, stderr: '' });
      const lines = listed.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^REFERENCE\s+STATUS\s+BACKEND\s+ATTEMPTS\s+NEXT ATTEMPT\s+OPENED\s+LAST ERROR$/);
      expect(lines.slice(1, -1).map((l) => l.split(/\s+/).slice(0, 4).join(' '))).toEqual([
        `${rejected.reference} failed webhook 1`,
        `${invalid.reference} failed webhook 1`,
        `${waiting.reference} pending webhook 1`,
      ]);
      expect(listed.stdout).toContain('2099-01-01T00:00:00.000Z');
      expect(listed.stdout).toContain('The case webhook answered HTTP 422');
      expect(listed.stdout).toContain('could not be reached (ECONNREFUSED)');
      expect(lines.at(-1)).toBe('1 pending, 2 failed');
      expect(listed.stdout).not.toContain(delivered.reference);
      for (const personal of ['@', 'Оксана', '104857391', 'Sub123456', 'поле не зберігається']) expect(listed.stdout).not.toContain(personal);

      const json = JSON.parse((await cases('list', '--json')).stdout) as UndeliveredCase[];
      expect(json.map((c) => [c.reference, c.status, c.attempts])).toEqual([
        [rejected.reference, 'failed', 1],
        [invalid.reference, 'failed', 1],
        [waiting.reference, 'pending', 1],
      ]);
    });

    it('makes one case due now, refuses cases that cannot be retried, and retries every failed case', async () => {
      const { delivered, waiting, rejected, invalid } = await seedOutbox();

      const one = await cases('retry', waiting.reference.toLowerCase());
      expect(one).toMatchObject({ code: 0 });
      expect(one.stdout).toContain(`${waiting.reference} is due now`);
      const pending = (await repo.findByReference(waiting.reference))!.delivery;
      expect(pending).toMatchObject({ status: 'pending', attempts: 1 });
      expect(Date.parse(pending.nextAttemptAt!)).toBeLessThanOrEqual(Date.now());

      expect(await cases('retry', delivered.reference)).toMatchObject({ code: 1, stderr: `${delivered.reference} is delivered; only pending or failed cases are retried.\n` });
      expect(await cases('retry', 'PCE-999999')).toMatchObject({ code: 1, stderr: 'No case PCE-999999.\n' });
      expect((await cases('retry')).code).toBe(2);

      const all = await cases('retry', '--failed');
      expect(all).toMatchObject({ code: 0 });
      expect(all.stdout).toContain('2 failed case(s) made due now');
      for (const c of [rejected, invalid]) {
        const d = (await repo.findByReference(c.reference))!.delivery;
        expect(d).toMatchObject({ status: 'pending', attempts: 0 });
        expect(Date.parse(d.nextAttemptAt!)).toBeLessThanOrEqual(Date.now());
      }
      expect((await repo.findByReference(delivered.reference))!.delivery).toMatchObject({ status: 'delivered', externalId: 'TCK-1' });
      expect((await cases('list')).stdout.trim().split('\n').at(-1)).toBe('3 pending, 0 failed');

      // The receiver now takes them (the operator fixed what made it refuse): the worker sends all three.
      const { receiver, accepted } = await webhookReceiver(SECRET);
      const outbox = new CaseOutbox({
        repository: repo,
        backend: createWebhookBackend({ url: receiver.url, secret: SECRET }),
        translator: fixtureTranslator(),
        logger: silentLogger,
      });
      expect(await outbox.runOnce()).toEqual({ delivered: 3, retrying: 0, failed: 0 });
      expect([...accepted.keys()].sort()).toEqual([waiting.reference, rejected.reference, invalid.reference].sort());
      expect((await cases('list')).stdout).toBe('No pending or failed cases.\n');
      await receiver.stop();
    }, 90_000); // seven runs of the CLI, each a fresh process
  });
}

describe('npm run cases -- check', () => {
  const check = (env: Record<string, string>): Promise<Run> => runCases(testDir('cases-check-').path, ['check'], env);

  it('says a ServiceNow user that may not read the table is not ready (exit 1), and writes nothing there', async () => {
    const calls: string[] = [];
    const sn = await httpReceiver((req, res) => {
      calls.push(req.method!);
      if (req.method === 'GET') return json(res, 403, { error: { message: 'Operation Failed' } });
      json(res, 201, { result: { sys_id: 'x'.padEnd(32, '0') } });
    });
    try {
      const env = { CASE_BACKEND: 'servicenow', SERVICENOW_INSTANCE_URL: sn.url, SERVICENOW_USERNAME: 'svc.bot', SERVICENOW_PASSWORD: 's3cret' };
      const refused = await check(env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('CASE_BACKEND=servicenow is not ready; cases wait until this is fixed:');
      expect(refused.stderr).toContain('HTTP 403: Operation Failed; the integration user must be able to read the table');
      expect(calls).toEqual(['GET']);
      expect(await check({ CASE_BACKEND: 'local' })).toMatchObject({ code: 0, stdout: 'CASE_BACKEND=local: nothing to check.\n' });
    } finally {
      await sn.stop();
    }
  });
});
