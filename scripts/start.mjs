/**
 * `npm start`: runs the bundle (./build.mjs) in this same process, so the bot is one node process
 * (signals reach it, nothing is left behind), with V8's code cache (./run-bundle.mjs). The bundle is
 * built by `npm ci` and rebuilt here first only when a source it was made from has changed, so the
 * bot never runs code older than the source and a start does not pay for a build it does not need.
 */
import { build, OUTFILE, upToDate } from './build.mjs';
import { runBundle } from './run-bundle.mjs';

if (!upToDate()) await build();
runBundle(OUTFILE);
