/**
 * Drives N concurrent conversations against `POST /api/messages` with autocannon's API. Each of the
 * N connections sends one request at a time; every request is the next real step of some
 * conversation (taken from a pool of idle conversations), so a conversation never has two turns in
 * flight, as with a person at a keyboard.
 *
 * With connector delivery the bot answers through the fake connector (./connector.ts) before it
 * answers the request, so when the response arrives the replies are in the conversation's mailbox:
 * the walker reads them there (and what it presses next replies to the card it is on). With
 * `expectReplies` it reads the response body.
 *
 * Optionally a share of the turns are returning people (./returning.ts): one turn on a stored
 * conversation chosen at random; their latencies are reported beside the new conversations'.
 */
import autocannon from 'autocannon';
import { addMail, noCalls, type ConnectorCalls, type FakeConnector, type PostedActivity } from './connector';
import { readActivities, readReply, type ReplyReading } from './reading';
import type { StoredConversations } from './returning';
import { seededRandom, summariseLatencies, type LatencySummary } from './stats';
import { WalkedConversation, type ConversationOptions, type StepKind, type WalkScript } from './walker';

export interface LoadOptions {
  /** Base URL of the bot, e.g. http://127.0.0.1:3978 */
  url: string;
  connections: number;
  /** Seconds to run; ignored when `conversations` is set. */
  seconds?: number;
  /** Run until this many conversations have finished (reached an outcome, maxTurns or the end of their script). */
  conversations?: number;
  conversation: ConversationOptions;
  /** Where replies are read with connector delivery. */
  connector: FakeConnector;
  /** First conversation number (unique across phases of one run). */
  firstConversation: number;
  seed: number;
  /** Conversation i of this run replays script i (mod the pool); without it, conversations walk at random. */
  scripts?: { pool: readonly WalkScript[]; mode: 'follow' | 'verbatim' };
  /** Scripts of finished walks are added here. */
  record?: WalkScript[];
  /** A share of the turns go to stored conversations (returning people). */
  returning?: { share: number; stored: StoredConversations };
  /** Every conversation the run left (finished, or idle between turns at the end): it is stored. */
  onLeft?: (conv: WalkedConversation) => void;
  onProgress?: (p: { finished: number; turns: number }) => void;
}

export interface TurnGroup {
  turns: number;
  latencyMs: LatencySummary;
}

export interface LoadResult {
  seconds: number;
  turns: number;
  turnsPerSecond: number;
  latencyMs: LatencySummary;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 200 answers without a single message: a step that showed the person nothing. */
  emptyReplies: number;
  conversationsStarted: number;
  conversationsFinished: number;
  /** Distinct sequences of offers pressed among finished conversations. */
  distinctPaths: number;
  examplePaths: string[];
  /** How finished conversations ended: the start of the last reply's text (an outcome), or why they stopped. */
  endings: Record<string, number>;
  /** Turns where a followed script's step was not offered (the bot walked another way). */
  offScriptTurns: number;
  /** Turns of new conversations, and of returning people (when there were any). */
  fresh: TurnGroup;
  returning?: TurnGroup & { kinds: Partial<Record<StepKind, number>> };
  /** Pressed cards the bot replaced through the connector (connector delivery). */
  cardsReplaced: number;
  /** Pressed cards the bot replaced in the invoke's answer (Action.Execute: no connector call). */
  cardsInResponse: number;
  /** Connector calls the answered turns made (connector delivery): from their mailboxes, so turns in flight at the end do not count. */
  connectorCalls: ConnectorCalls;
  firstErrors: string[];
  /** The next free conversation number. */
  nextConversation: number;
}

interface Ctx {
  conv?: WalkedConversation;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const random = seededRandom(opts.seed);
  const connector = opts.conversation.delivery === 'connector' ? opts.connector : undefined;
  connector?.clear();
  const idle: WalkedConversation[] = [];
  const busy = new Set<string>();
  /** Conversations with a turn in flight, by id: the load may stop before their answers come. */
  const inFlight = new Map<string, WalkedConversation>();
  let n = opts.firstConversation;
  let started = 0;
  let finished = 0;
  let turns = 0;
  let empty = 0;
  let non2xx = 0;
  let offScript = 0;
  let cardsReplaced = 0;
  let cardsInResponse = 0;
  const calls = noCalls();
  let returningSeq = 0;
  const paths = new Map<string, number>();
  const endings = new Map<string, number>();
  const kinds: Partial<Record<StepKind, number>> = {};
  const firstErrors: string[] = [];
  const latencies: { fresh: number[]; returning: number[] } = { fresh: [], returning: [] };
  let answered: 'fresh' | 'returning' = 'fresh';

  const finish = (c: WalkedConversation) => {
    finished += 1;
    offScript += c.offScript;
    const key = c.path.join(' > ');
    paths.set(key, (paths.get(key) ?? 0) + 1);
    const ending = c.ending();
    endings.set(ending, (endings.get(ending) ?? 0) + 1);
    if (opts.record && !c.done) opts.record.push(c.script());
    opts.onLeft?.(c);
    if (opts.conversations && finished >= opts.conversations) instance?.stop();
  };

  const returningTurn = (): { conv: WalkedConversation; activity: Record<string, unknown> } | undefined => {
    const r = opts.returning;
    if (!r || r.share <= 0 || random() >= r.share) return undefined;
    const pick = r.stored.pick(random, busy);
    if (!pick) return undefined;
    const conv = new WalkedConversation(pick.n, opts.conversation, random, {
      identity: { id: pick.id, userId: pick.userId },
      last: pick.reading ?? { activities: 1, offers: [], commands: [], inputs: [], text: '', expectingInput: false, activityIds: [] },
      activityId: `${pick.id}-r${opts.seed}-${++returningSeq}`,
    });
    const activity = conv.next();
    if (!activity) return undefined;
    busy.add(conv.id);
    inFlight.set(conv.id, conv);
    return { conv, activity };
  };

  const take = (): { conv: WalkedConversation; activity: Record<string, unknown> } => {
    const back = returningTurn();
    if (back) return back;
    for (;;) {
      let conv = idle.pop();
      if (!conv) {
        const i = n - opts.firstConversation;
        const script = opts.scripts?.pool.length ? opts.scripts.pool[i % opts.scripts.pool.length] : undefined;
        conv = new WalkedConversation(n++, opts.conversation, random, script ? { replay: { script, mode: opts.scripts!.mode } } : {});
        started += 1;
      }
      const activity = conv.next();
      if (activity) {
        busy.add(conv.id);
        inFlight.set(conv.id, conv);
        return { conv, activity };
      }
      finish(conv);
    }
  };

  const reading = (conv: WalkedConversation, body: string): ReplyReading => {
    if (!connector) {
      try {
        return readReply(JSON.parse(body));
      } catch {
        return readReply(undefined);
      }
    }
    const mail = connector.take(conv.id);
    cardsReplaced += mail.updated.length;
    if (body && isCardInResponse(body)) cardsInResponse += 1;
    addMail(calls, mail);
    return readActivities(mail.posted);
  };

  let instance: autocannon.Instance | undefined = undefined;
  let settle!: (r: { err: unknown; result: autocannon.Result }) => void;
  const done = new Promise<{ err: unknown; result: autocannon.Result }>((resolve) => (settle = resolve));
  instance = autocannon(
    {
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
            const { conv, activity } = take();
            (context as Ctx).conv = conv;
            return { ...req, body: JSON.stringify(activity) };
          },
          onResponse(status, body, context) {
            const conv = (context as Ctx).conv;
            if (!conv) return;
            busy.delete(conv.id);
            inFlight.delete(conv.id);
            answered = conv.returning ? 'returning' : 'fresh';
            if (status !== 200) {
              non2xx += 1;
              if (firstErrors.length < 5) firstErrors.push(`${status} ${body.slice(0, 300)}`);
              connector?.take(conv.id);
              conv.done = true;
              if (!conv.returning) finish(conv);
              return;
            }
            turns += 1;
            const r = reading(conv, body);
            if (r.activities === 0) {
              empty += 1;
              if (firstErrors.length < 5) firstErrors.push(`200 without a message (${connector ? 'connector' : 'body'}): ${body.slice(0, 200)}`);
            }
            conv.accept(r);
            if (conv.returning) {
              opts.returning!.stored.update(conv.id, r.activities ? r : undefined);
              const kind = conv.lastKind()!;
              kinds[kind] = (kinds[kind] ?? 0) + 1;
            }
            else idle.push(conv);
            if (turns % 2000 === 0) opts.onProgress?.({ finished, turns });
          },
        },
      ],
    },
    (err: unknown, result: autocannon.Result) => settle({ err, result }),
  );
  // Emitted right after onResponse for the same request, so `answered` is that request's group.
  instance.on('response', (_client, _status, _bytes, ms) => {
    latencies[answered].push(ms);
  });
  const { err, result } = await done;
  if (err) throw err;
  // Conversations between turns when the load stopped are stored as far as they got: people who left.
  for (const c of idle) if (!c.done) opts.onLeft?.(c);
  if (connector && (opts.onLeft || opts.returning)) await settleInFlight([...inFlight.values()], connector, opts);
  const examples = [...paths.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([p, c]) => `${c}× ${p}`);
  const all = [...latencies.fresh, ...latencies.returning];
  return {
    seconds: result.duration,
    turns,
    turnsPerSecond: turns / result.duration,
    latencyMs: summariseLatencies(all),
    non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    emptyReplies: empty,
    conversationsStarted: started,
    conversationsFinished: finished,
    distinctPaths: paths.size,
    examplePaths: examples,
    endings: Object.fromEntries([...endings].sort((a, b) => b[1] - a[1]).slice(0, 12)),
    offScriptTurns: offScript,
    fresh: { turns: latencies.fresh.length, latencyMs: summariseLatencies(latencies.fresh) },
    ...(opts.returning ? { returning: { turns: latencies.returning.length, latencyMs: summariseLatencies(latencies.returning), kinds } } : {}),
    cardsReplaced,
    cardsInResponse,
    connectorCalls: calls,
    firstErrors,
    nextConversation: n,
  };
}

/** The answer to an Action.Execute press carries the card the pressed one becomes. */
function isCardInResponse(body: string): boolean {
  try {
    return (JSON.parse(body) as { type?: unknown } | null)?.type === 'application/vnd.microsoft.card.adaptive';
  } catch {
    return false;
  }
}

/**
 * The turns in flight when the load stopped still run in the bot, which sends their replies to the
 * connector: wait a little for them, so that what these conversations are left at (stored, and open
 * to returning people) is known. Not counted as turns.
 */
async function settleInFlight(convs: WalkedConversation[], connector: FakeConnector, opts: LoadOptions, timeoutMs = 3000): Promise<void> {
  const posted = new Map<string, PostedActivity[]>();
  const collect = () => {
    for (const c of convs) {
      const mail = connector.take(c.id);
      if (mail.posted.length) posted.set(c.id, [...(posted.get(c.id) ?? []), ...mail.posted]);
    }
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const t0 = Date.now();
  while (posted.size < convs.length && Date.now() - t0 < timeoutMs) {
    await sleep(50);
    collect();
  }
  await sleep(100); // a turn's later messages
  collect();
  for (const c of convs) {
    const list = posted.get(c.id);
    if (!list) continue;
    const reading = readActivities(list);
    c.accept(reading);
    if (c.returning) opts.returning?.stored.update(c.id, reading);
    else if (!c.done) opts.onLeft?.(c);
  }
}
