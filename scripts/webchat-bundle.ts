/**
 * The web chat page serves Microsoft's prebuilt Web Chat bundle (`window.WebChat`, self-contained:
 * its own React inside) from src/channels/directline/page/vendor/botframework-webchat/. Installing
 * the `botframework-webchat` package to serve that one file brought ~600 MB of React, speech SDK and
 * polyfill packages, a peer-dependency conflict and a page of install-script notices (issue 20), so
 * the bundle is kept here with a record of where it came from.
 *
 *   npm run webchat:bundle -- 4.18.1    take that version's bundle from the npm registry
 *   npm run webchat:bundle -- --check   the kept files are the recorded ones (no network)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'botframework-webchat';
const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'channels', 'directline', 'page', 'vendor', PACKAGE);
const RECORD = join(DIR, 'bundle.json');
/** The bundle and the licences of what it bundles; the package itself is MIT (its package.json). */
const FILES = ['webchat.js', 'webchat.js.LICENSE.txt'];

interface BundleRecord {
  package: string;
  version: string;
  license: string;
  /** npm's integrity of the registry tarball the files were taken from. */
  tarball: string;
  /** sha256 (hex) of each kept file. */
  sha256: Record<string, string>;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function check(): void {
  const record = JSON.parse(readFileSync(RECORD, 'utf8')) as BundleRecord;
  const wrong = FILES.filter((f) => record.sha256[f] !== sha256(join(DIR, f)));
  if (wrong.length > 0) {
    console.error(`${wrong.join(', ')} in ${DIR} differ from ${RECORD}; run: npm run webchat:bundle -- ${record.version}`);
    process.exit(1);
  }
  console.log(`${PACKAGE}@${record.version}: ${FILES.join(', ')} as recorded`);
}

function take(version: string): void {
  const work = mkdtempSync(join(tmpdir(), 'webchat-bundle-'));
  try {
    // npm pack checks the tarball against the registry's integrity before it writes it.
    const packed = JSON.parse(
      execFileSync('npm', ['pack', `${PACKAGE}@${version}`, '--json', '--pack-destination', work], { encoding: 'utf8' }),
    ) as Array<{ filename: string; version: string; integrity: string; license?: string }>;
    const tarball = packed[0]!;
    execFileSync('tar', ['-xzf', join(work, tarball.filename), '-C', work, ...FILES.map((f) => `package/dist/${f}`)]);
    const meta = JSON.parse(execFileSync('tar', ['-xzOf', join(work, tarball.filename), 'package/package.json'], { encoding: 'utf8' })) as {
      license?: string;
    };
    for (const f of FILES) copyFileSync(join(work, 'package', 'dist', f), join(DIR, f));
    const record: BundleRecord = {
      package: PACKAGE,
      version: tarball.version,
      license: meta.license ?? 'see the package',
      tarball: tarball.integrity,
      sha256: Object.fromEntries(FILES.map((f) => [f, sha256(join(DIR, f))])),
    };
    writeFileSync(RECORD, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`${PACKAGE}@${tarball.version} → ${DIR}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const arg = process.argv[2];
if (arg === '--check') check();
else if (arg && /^\d+\.\d+\.\d+(-[\w.]+)?$/.test(arg)) take(arg);
else {
  console.error('usage: npm run webchat:bundle -- <version> | --check');
  process.exit(2);
}
