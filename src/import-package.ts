/**
 * import() of a package left out of the bundle (scripts/build.mjs) and loaded on first use (Vega,
 * nodemailer). `npm start` runs the bundle as a script compiled with V8's code cache
 * (scripts/run-bundle.mjs), where Node 20 serves a script's own import() only with an experimental
 * warning; the runner lends its import() for that, and everywhere else (tsx, tests) it is node's own.
 */
type Importer = (specifier: string) => Promise<unknown>;

const LENT = Symbol.for('pce-support-bot.import');

export function importPackage<T>(name: string): Promise<T> {
  const lent = (globalThis as { [LENT]?: Importer })[LENT];
  return (lent ? lent(name) : import(name)) as Promise<T>;
}
