/**
 * Drives N concurrent conversations against `POST /api/messages` with autocannon's API. Each of the
 * N connections sends one request at a time; every request is the next real step of some
 * conversation (taken from a pool of idle conversations), so a conversation never has two turns in
 * flight, as with a person at a keyboard.
 */
import autocannon from 'autocannon';
import { readReply, WalkedConversation, type ConversationOptions } from './walker';
import { seededRandom, summariseLatencies, type LatencySummary } from './stats';

export interface LoadOptions {
  /** Base URL of the bot, e.g. http://127.0.0.1:3978 */
  url: string;
  connections: number;
  /** Seconds to run; ignored when `conversations` is set. */
  seconds?: number;
  /** Run until this many conversations have finished (reached an outcome or maxTurns). */
  conversations?: number;
  conversation: ConversationOptions;
  /** First conversation number (unique across phases of one run). */
  firstConversation: number;
  seed: number;
  onProgress?: (p: { finished: number; turns: number }) => void;
}

export interface LoadResult {
  seconds: number;
  turns: number;
  turnsPerSecond: number;
  latencyMs: LatencySummary;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 200 answers without a single activity: a step that showed the person nothing. */
  emptyReplies: number;
  conversationsStarted: number;
  conversationsFinished: number;
  /** Distinct sequences of offers pressed among finished conversations. */
  distinctPaths: number;
  examplePaths: string[];
  /** How finished conversations ended: the start of the last reply's text (an outcome), or `max turns`. */
  endings: Record<string, number>;
  firstErrors: string[];
  /** The next free conversation number. */
  nextConversation: number;
}

interface Ctx {
  conv?: WalkedConversation;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const random = seededRandom(opts.seed);
  const idle: WalkedConversation[] = [];
  let n = opts.firstConversation;
  let started = 0;
  let finished = 0;
  let turns = 0;
  let empty = 0;
  let non2xx = 0;
  const paths = new Map<string, number>();
  const endings = new Map<string, number>();
  const firstErrors: string[] = [];
  const latencies: number[] = [];

  const finish = (c: WalkedConversation) => {
    finished += 1;
    const key = c.path.join(' > ');
    paths.set(key, (paths.get(key) ?? 0) + 1);
    const ending = c.done ? 'error or empty reply' : c.turns >= opts.conversation.maxTurns ? 'max turns' : (c.last?.text ?? '').replace(/\s+/g, ' ').slice(0, 70);
    endings.set(ending, (endings.get(ending) ?? 0) + 1);
    if (opts.conversations && finished >= opts.conversations) instance?.stop();
  };

  const take = (): { conv: WalkedConversation; activity: Record<string, unknown> } => {
    for (;;) {
      let conv = idle.pop();
      if (!conv) {
        conv = new WalkedConversation(n++, opts.conversation, random);
        started += 1;
      }
      const activity = conv.next();
      if (activity) return { conv, activity };
      finish(conv);
    }
  };

  // Assigned right below; `finish` may only stop it once requests are flowing.
  let instance: autocannon.Instance | undefined = undefined;
  let settle!: (r: { err: unknown; result: autocannon.Result }) => void;
  const done = new Promise<{ err: unknown; result: autocannon.Result }>((resolve) => (settle = resolve));
  instance = autocannon({
    url: `${opts.url}/api/messages`,
    connections: opts.connections,
    pipelining: 1,
    timeout: 30,
    ...(opts.conversations ? { duration: 24 * 3600 } : { duration: opts.seconds ?? 10 }),
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest(req, context) {
          const ctx = context as Ctx;
          const { conv, activity } = take();
          ctx.conv = conv;
          return { ...req, body: JSON.stringify(activity) };
        },
        onResponse(status, body, context) {
          const conv = (context as Ctx).conv;
          if (!conv) return;
          if (status !== 200) {
            non2xx += 1;
            if (firstErrors.length < 5) firstErrors.push(`${status} ${body.slice(0, 300)}`);
            conv.done = true;
            finish(conv);
            return;
          }
          turns += 1;
          let parsed: unknown;
          try {
            parsed = JSON.parse(body);
          } catch {
            parsed = undefined;
          }
          const reading = readReply(parsed);
          if (reading.activities === 0) {
            empty += 1;
            if (firstErrors.length < 5) firstErrors.push(`200 without activities: ${body.slice(0, 300)}`);
          }
          conv.accept(reading);
          idle.push(conv);
          if (turns % 2000 === 0) opts.onProgress?.({ finished, turns });
        },
      },
    ],
  }, (err: unknown, result: autocannon.Result) => settle({ err, result }));
  instance.on('response', (_client, _status, _bytes, ms) => {
    latencies.push(ms);
  });
  const { err, result } = await done;
  if (err) throw err;
  const examples = [...paths.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([p, c]) => `${c}× ${p}`);
  return {
    seconds: result.duration,
    turns,
    turnsPerSecond: turns / result.duration,
    latencyMs: summariseLatencies(latencies),
    non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    emptyReplies: empty,
    conversationsStarted: started,
    conversationsFinished: finished,
    distinctPaths: paths.size,
    examplePaths: examples,
    endings: Object.fromEntries([...endings].sort((a, b) => b[1] - a[1]).slice(0, 12)),
    firstErrors,
    nextConversation: n,
  };
}
