/**
 * `npm start`: builds the bundle (./build.mjs, about a tenth of a second) and runs it in this same
 * process, so the bot is one node process (signals reach it, nothing is left behind) and never runs
 * code older than the source.
 */
import { pathToFileURL } from 'node:url';
import { build, OUTFILE } from './build.mjs';

await build();
await import(pathToFileURL(OUTFILE).href);
