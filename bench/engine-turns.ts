/**
 * CPU cost of one turn inside the bot, without HTTP and botbuilder: the application is assembled
 * with `createApplication` (the same engine, flows, store and translator as `npm start`) and its
 * engine is driven directly, walking the choices each step offers. Several checkouts can be
 * compared in one process (`--root A --root B`): they run in alternating slices, so a busy machine
 * slows both alike, and the report gives the median and the minimum CPU ms per turn of the slices.
 *
 * Usage: tsx bench/engine-turns.ts [--root DIR]... [--store sqlite|postgres] [--slices 12] [--turns 400]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createBenchDatabase, type BenchDatabase } from './lib/postgres';
import { REPO_ROOT } from './lib/processes';
import { median, round, seededRandom } from './lib/stats';

const { values } = parseArgs({
  options: {
    root: { type: 'string', multiple: true },
    store: { type: 'string', default: 'sqlite' },
    slices: { type: 'string', default: '12' },
    turns: { type: 'string', default: '400' },
    'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    'max-turns': { type: 'string', default: '15' },
  },
});
const roots = (values.root?.length ? values.root : [REPO_ROOT]).map((r) => resolve(r));
const slices = Number(values.slices);
const turnsPerSlice = Number(values.turns);
const maxTurns = Number(values['max-turns']);

/** The parts of the application this bench touches, typed loosely: each root may be a different version. */
interface Engine {
  handle(inbound: Record<string, unknown>): Promise<{ messages: { choices: { id: string }[]; step?: string }[]; step: string }>;
}
interface Application {
  engine: Engine;
  close(timeoutMs?: number): Promise<boolean>;
}

interface Subject {
  root: string;
  app: Application;
  samples: number[];
  next: number;
  cleanup: () => Promise<void>;
}

async function assemble(root: string, index: number): Promise<Subject> {
  const mod = async (p: string) => import(pathToFileURL(join(root, p)).href);
  const { createApplication } = await mod('src/app.ts');
  const { loadConfig } = await mod('src/config.ts');
  const { createLogger } = await mod('src/log.ts');
  const dir = mkdtempSync(join(tmpdir(), 'pce-engine-bench-'));
  let db: BenchDatabase | undefined;
  let url = `sqlite:${join(dir, 'bot.sqlite')}`;
  if (values.store === 'postgres') {
    db = await createBenchDatabase(values['pg-url']!, `engine${index}`);
    url = db.url;
  }
  const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', DATABASE_URL: url, WEBCHAT_ENABLED: 'false' });
  const app = (await createApplication(config, { logger: createLogger('silent'), processMetrics: false })) as Application;
  return {
    root,
    app,
    samples: [],
    next: 1,
    cleanup: async () => {
      await app.close(1000);
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `turns` turns as walked conversations, one turn at a time; returns CPU ms per turn. */
async function slice(s: Subject, turns: number, random: () => number): Promise<number> {
  const cpu0 = process.cpuUsage();
  let done = 0;
  while (done < turns) {
    const n = s.next++;
    const conversationId = `engine-${n}`;
    const user = { id: `engine-${n}-user`, name: 'Bench User' };
    const locale = n % 3 === 0 ? 'uk-UA' : 'en-US';
    let result = await s.app.engine.handle({ channel: 'msteams', conversationId, user, activityId: `${conversationId}-a0`, locale, kind: 'greeting' });
    done += 1;
    for (let t = 1; t < maxTurns && done < turns; t++) {
      const message = result.messages.at(-1);
      const choices = (message?.choices ?? []).filter((c) => !c.id.startsWith('cmd.'));
      if (!choices.length) break;
      const pick = choices[Math.floor(random() * choices.length)]!;
      result = await s.app.engine.handle({
        channel: 'msteams',
        conversationId,
        user,
        activityId: `${conversationId}-a${t}`,
        locale,
        kind: 'message',
        choice: { id: pick.id, ...(message?.step ? { step: message.step } : {}) },
      });
      done += 1;
    }
  }
  const used = process.cpuUsage(cpu0);
  return (used.user + used.system) / 1000 / done;
}

const subjects: Subject[] = [];
try {
  for (const [i, root] of roots.entries()) subjects.push(await assemble(root, i));
  // Warm-up: JIT and SQLite caches for every subject before anything is measured.
  for (const s of subjects) await slice(s, turnsPerSlice, seededRandom(1));
  for (let i = 0; i < slices; i++) {
    for (const s of i % 2 ? [...subjects].reverse() : subjects) {
      s.samples.push(await slice(s, turnsPerSlice, seededRandom(100 + i)));
    }
    process.stderr.write(`slice ${i + 1}/${slices}: ${subjects.map((s) => s.samples.at(-1)!.toFixed(3)).join(' / ')} CPU ms per turn\n`);
  }
  const base = median(subjects[0]!.samples);
  console.log(`\nEngine turn (no HTTP), ${values.store}, ${slices} slices × ${turnsPerSlice} turns, CPU ms per turn:`);
  for (const s of subjects) {
    const med = median(s.samples);
    console.log(`  median ${round(med, 3).toFixed(3)}  min ${round(Math.min(...s.samples), 3).toFixed(3)}  (${round((med / base) * 100, 1)} % of the first)  ${s.root}`);
  }
} finally {
  for (const s of subjects) await s.cleanup().catch(() => undefined);
}
