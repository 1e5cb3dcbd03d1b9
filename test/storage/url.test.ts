import { describe, expect, it } from 'vitest';
import { StorageConfigError, parseDatabaseUrl } from '../../src/storage/index';

describe('DATABASE_URL', () => {
  it('defaults to ./data/bot.sqlite under the working directory', () => {
    expect(parseDatabaseUrl(undefined, '/srv/bot')).toEqual({ dialect: 'sqlite', path: '/srv/bot/data/bot.sqlite' });
    expect(parseDatabaseUrl('  ', '/srv/bot')).toEqual({ dialect: 'sqlite', path: '/srv/bot/data/bot.sqlite' });
  });

  it('accepts sqlite: paths, relative and absolute, and an in-memory database', () => {
    expect(parseDatabaseUrl('sqlite:./state/x.sqlite', '/srv/bot')).toEqual({ dialect: 'sqlite', path: '/srv/bot/state/x.sqlite' });
    expect(parseDatabaseUrl('sqlite:/var/lib/bot/x.sqlite', '/srv/bot')).toEqual({ dialect: 'sqlite', path: '/var/lib/bot/x.sqlite' });
    expect(parseDatabaseUrl('sqlite:///var/lib/bot/x.sqlite', '/srv/bot')).toEqual({ dialect: 'sqlite', path: '/var/lib/bot/x.sqlite' });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', path: ':memory:' });
  });

  it('chooses PostgreSQL for postgres:// and postgresql:// URLs', () => {
    expect(parseDatabaseUrl('postgres://u:p@db:5432/bot')).toEqual({ dialect: 'postgres', url: 'postgres://u:p@db:5432/bot' });
    expect(parseDatabaseUrl('postgresql://db/bot').dialect).toBe('postgres');
  });

  it('refuses anything else with a hint, without echoing the rest of the URL', () => {
    expect(() => parseDatabaseUrl('mysql://root:secret@db/bot')).toThrow(StorageConfigError);
    expect(() => parseDatabaseUrl('mysql://root:secret@db/bot')).not.toThrow(/secret/);
    expect(() => parseDatabaseUrl('sqlite:')).toThrow(/no path/);
  });
});
