/**
 * `npm run chat [-- --lang uk|en]`: talk to the bot in a terminal, on the same engine, flows and
 * storage as `npm start` (no HTTP listener). Reads `.env` like `npm start`; logs go to stderr.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../../config';
import { normaliseLocale } from '../../i18n';
import { createLogger } from '../../log';
import { runTerminalChat } from './chat';

const argsSchema = z.object({
  lang: z.enum(['en', 'uk']).optional(),
  verbose: z.boolean().optional(),
  help: z.boolean().optional(),
});

const USAGE = `Usage: npm run chat [-- --lang uk|en] [--verbose]
  --lang      the language to start in (default: en, or uk when the system locale is Ukrainian)
  --verbose   show the bot's logs (stderr) at LOG_LEVEL instead of warnings only
Type a number or an answer; "back", "start over", "help", "language", "support" work at any step.
End with Ctrl+D (or "exit").`;

async function main(): Promise<number> {
  let args: z.infer<typeof argsSchema>;
  try {
    const { values } = parseArgs({
      options: { lang: { type: 'string', short: 'l' }, verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
    // `uk`, `ua`, `uk-UA`, `en-GB` are understood; anything else is refused with the usage.
    const lang = values.lang?.trim().toLowerCase().replace('_', '-');
    const known = lang && /^(uk|ua)(-|$)/.test(lang) ? 'uk' : lang && /^en(-|$)/.test(lang) ? 'en' : lang;
    args = argsSchema.parse({ ...values, lang: known });
  } catch {
    process.stderr.write(`${USAGE}\n`);
    return 64; // EX_USAGE
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 78;
    }
    throw err;
  }
  const logger = createLogger(args.verbose ? config.LOG_LEVEL : 'warn', pino.destination(2));
  // restify (pulled in by the HTTP channels) warns about a deprecated Node API on import: noise in a chat.
  process.noDeprecation = true;
  const { createApplication } = await import('../../app');
  const app = await createApplication(config, { logger, processMetrics: false });
  try {
    const systemLocale = normaliseLocale(Intl.DateTimeFormat().resolvedOptions().locale) ?? 'en';
    const interactive = Boolean(process.stdin.isTTY);
    // Ctrl+C ends the chat like Ctrl+D: storage is closed properly on the way out.
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    await runTerminalChat({
      engine: app.engine,
      translator: app.translator,
      input: process.stdin,
      output: process.stdout,
      locale: args.lang ?? systemLocale,
      echo: !interactive,
      prompt: interactive,
      signal: stop.signal,
    });
  } finally {
    await app.close(5_000);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`The chat stopped: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
