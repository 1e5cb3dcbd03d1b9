/**
 * PostgreSQL: the store's fixed hot statements run as named (prepared) statements also when they go
 * through Kysely, which sends every query unnamed, so the server parses and plans it on every call.
 * A statement text registered here is sent with its name by the pool Kysely is given (`namingPool`):
 * pg prepares it once per connection. Used for the kept replies' look-ups and marks
 * (./batched-rows.ts) and a turn with transaction writers (./pg-turn-batch.ts), run once or more
 * per turn (issue 19).
 */
import { createHash } from 'node:crypto';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** Statement text → its name. Names follow from the text, so a name never stands for two texts. */
const names = new Map<string, string>();

/** From now on `text` runs as a named statement on the store's connections; returns its name. */
export function nameStatement(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `pce_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/** The pool for Kysely: its clients send a registered text as the named statement. */
export function namingPool(pool: pg.Pool): PostgresPool {
  // One wrapper per pg client: Kysely keeps its connection per client object.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    let wrapper = wrappers.get(client);
    if (!wrapper) {
      wrapper = {
        query: ((query: unknown, values?: readonly unknown[]) => {
          const name = typeof query === 'string' ? names.get(query) : undefined;
          if (name) return client.query({ name, text: query as string, values: values as unknown[] });
          return client.query(query as never, values as never);
        }) as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy),
      };
      wrappers.set(client, wrapper);
    }
    return wrapper;
  };
  return {
    connect: async () => wrap(await pool.connect()),
    end: () => pool.end(),
  };
}
