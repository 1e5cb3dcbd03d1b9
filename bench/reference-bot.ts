/**
 * The reference for `npm run bench`: a bare Bot Framework echo bot, the way the botbuilder samples
 * write it (CloudAdapter + ActivityHandler on restify), with no state, no storage and no cards: one
 * reply to every message, and to every pressed Action.Execute button (an invoke).
 * It exists only to be measured beside the product bot on the same machine in the same run.
 * Bench code is not product code, so it imports botbuilder directly.
 *
 * With `--sqlite FILE` it is the durable echo (`--durable-echo`): every turn reads its conversation's
 * row and writes the activity and the conversation's count in one SQLite transaction (WAL,
 * synchronous=NORMAL, as the product's store), before it answers: what a store alone costs a turn.
 *
 * Usage: tsx bench/reference-bot.ts [--port 0] [--host 127.0.0.1] [--sqlite FILE]
 * Prints one JSON line `{"listening":<port>}` on stdout once it accepts requests.
 */
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import {
  ActivityHandler,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type TurnContext,
} from 'botbuilder';
import Database from 'better-sqlite3';
import restify from 'restify';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' }, sqlite: { type: 'string' } },
});

/** The durable echo's store: one read and one write transaction per turn. */
function durableTurns(file: string): (context: TurnContext) => number {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, turns INTEGER NOT NULL, updated_at TEXT NOT NULL);
           CREATE TABLE IF NOT EXISTS turns (activity_id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, at TEXT NOT NULL, activity TEXT NOT NULL)`);
  const read = db.prepare('SELECT turns FROM conversations WHERE id = ?');
  const insertTurn = db.prepare('INSERT OR IGNORE INTO turns (activity_id, conversation_id, at, activity) VALUES (?, ?, ?, ?)');
  const upsert = db.prepare('INSERT INTO conversations (id, turns, updated_at) VALUES (?, 1, ?) ON CONFLICT (id) DO UPDATE SET turns = turns + 1, updated_at = excluded.updated_at');
  const write = db.transaction((conversation: string, activityId: string, at: string, activity: string) => {
    insertTurn.run(activityId, conversation, at, activity);
    upsert.run(conversation, at);
  });
  return (context) => {
    const { activity } = context;
    const conversation = activity.conversation.id;
    const turns = (read.get(conversation) as { turns: number } | undefined)?.turns ?? 0;
    write(conversation, activity.id ?? `${conversation}-${turns}`, new Date().toISOString(), JSON.stringify(activity));
    return turns + 1;
  };
}
const store = values.sqlite ? durableTurns(values.sqlite) : undefined;

// No app id: unauthenticated, as the Emulator and the product bot run locally.
const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
adapter.onTurnError = async (context: TurnContext, error: unknown) => {
  console.error('reference bot turn failed', error);
  await context.sendActivity('The reference bot failed.');
};

class EchoBot extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      store?.(context);
      await context.sendActivity(`Echo: ${context.activity.text ?? ''}`);
      await next();
    });
    this.onMembersAdded(async (context, next) => {
      store?.(context);
      await context.sendActivity('Hello and welcome!');
      await next();
    });
  }

  /** A pressed Action.Execute button (the workload replays the product bot's presses): one reply, and the smallest answer Teams takes. */
  protected override async onAdaptiveCardInvoke(context: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    store?.(context);
    await context.sendActivity(`Echo: ${invokeValue.action.verb ?? ''}`);
    return { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'ok' as unknown as Record<string, unknown> };
  }
}
const bot = new EchoBot();

const server = restify.createServer({ name: 'reference-echo-bot' });
server.use(restify.plugins.bodyParser());
server.get('/healthz', (_req, res, next) => {
  res.send(200, { status: 'ok' });
  next();
});
server.post('/api/messages', async (req, res) => {
  await adapter.process(req, res, (context) => bot.run(context));
});

server.listen(Number(values.port), values.host, () => {
  const { port } = server.server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ listening: port })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => server.close(() => process.exit(0)));
}
