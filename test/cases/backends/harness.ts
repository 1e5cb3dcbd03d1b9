/** What the case backend suites share: a case store for each test, and outboxes over it on a fixed clock. */
import { afterEach, beforeEach } from 'vitest';
import type { CaseBackend } from '../../../src/cases/backends/types';
import { CaseOutbox } from '../../../src/cases/outbox';
import { CaseRepository } from '../../../src/cases/repository';
import type { Translator } from '../../../src/i18n';
import type { SqlStore } from '../../../src/storage/index';
import { sqliteHarness, type StoreHarness } from '../../storage/harness';
import { silentLogger } from '../../support';
import { CREATED_AT } from '../helpers';

/**
 * For each test: a case store (a SQLite file) and its repository; what `closeAfter` is given
 * (receivers, outboxes) is closed after the test, in that order, then the store.
 */
export function useCaseOutboxes(translator: Translator) {
  let harness: StoreHarness | undefined;
  let store: SqlStore | undefined;
  let repo: CaseRepository | undefined;
  const closers: (() => Promise<void>)[] = [];
  const closeAfter = (close: () => Promise<void>): void => void closers.push(close);
  beforeEach(async () => {
    harness = sqliteHarness();
    store = await harness.open();
    repo = new CaseRepository(store);
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await harness?.cleanup();
  });
  return {
    get store(): SqlStore {
      return store!;
    },
    get repo(): CaseRepository {
      return repo!;
    },
    closeAfter,
    /** The delivery worker over the store and `backend`, its clock standing at `at`; stopped after the test. */
    outbox(backend: CaseBackend, at = CREATED_AT): CaseOutbox {
      const o = new CaseOutbox({ repository: repo!, backend, translator, logger: silentLogger, clock: () => new Date(at), random: () => 0 });
      closeAfter(() => o.stop());
      return o;
    },
  };
}
