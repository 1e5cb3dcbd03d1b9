import type { ColumnDefinitionBuilder } from 'kysely';
import type { ColumnTypes } from './types';

/** An auto-numbered primary key: identity on PostgreSQL, INTEGER PRIMARY KEY AUTOINCREMENT on SQLite. */
export function autoId(c: ColumnDefinitionBuilder, t: ColumnTypes): ColumnDefinitionBuilder {
  return t.dialect === 'postgres' ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement();
}
