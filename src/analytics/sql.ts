/** A tiny positional-parameter builder: values go in `params`, SQL gets `$n` placeholders. */
import type { Queryable } from '../db/queryable';
import { timedQuery } from '../db/statement-timeout';

export type { Queryable } from '../db/queryable';

export class Sql {
  readonly params: unknown[] = [];

  /** Adds a value and returns its placeholder, with an optional cast (e.g. "bigint[]"). */
  p(value: unknown, cast?: string): string {
    this.params.push(value);
    return cast ? `$${this.params.length}::${cast}` : `$${this.params.length}`;
  }
}

/**
 * Drops parameters the text never references and renumbers the rest: builders add values for
 * every branch they might take, and Postgres refuses to prepare a statement with an unused,
 * untyped parameter. Values never appear in the text itself, so `$n` only ever means a parameter.
 */
export function compact(text: string, params: readonly unknown[]): { text: string; params: unknown[] } {
  const renumber = new Map<number, number>();
  const kept: unknown[] = [];
  const out = text.replace(/\$(\d+)/g, (_m, d: string) => {
    const old = Number(d);
    let n = renumber.get(old);
    if (n === undefined) {
      kept.push(params[old - 1]);
      n = kept.length;
      renumber.set(old, n);
    }
    return `$${n}`;
  });
  return { text: out, params: kept };
}

/** Runs a compacted statement under the request's statement timeout (db/statement-timeout.ts). */
export async function rows<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = compact(sql, params);
  return (await timedQuery(db, c.text, c.params)) as T[];
}
