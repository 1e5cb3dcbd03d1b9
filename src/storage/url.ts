/** Reads DATABASE_URL: unset → ./data/bot.sqlite; `sqlite:<path>`, `sqlite::memory:`; `postgres://…`. */
import { resolve } from 'node:path';
import { StorageConfigError } from './errors';

export type StoreTarget = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

export const DEFAULT_SQLITE_PATH = './data/bot.sqlite';

export function parseDatabaseUrl(url: string | undefined, cwd: string = process.cwd()): StoreTarget {
  const value = url?.trim();
  if (!value) return { dialect: 'sqlite', path: resolve(cwd, DEFAULT_SQLITE_PATH) };
  if (/^postgres(ql)?:\/\//i.test(value)) return { dialect: 'postgres', url: value };
  if (/^sqlite:/i.test(value)) {
    let path = value.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2); // sqlite:///abs/path and sqlite://rel/path
    if (path === ':memory:') return { dialect: 'sqlite', path };
    if (!path) throw new StorageConfigError('DATABASE_URL "sqlite:" has no path', 'Write sqlite:./data/bot.sqlite or sqlite::memory:.');
    return { dialect: 'sqlite', path: resolve(cwd, path) };
  }
  throw new StorageConfigError(
    `DATABASE_URL must start with sqlite: or postgres:// (got "${value.split(':')[0]}:…")`,
    'Leave it unset for the embedded SQLite file, or see .env.example.',
  );
}
