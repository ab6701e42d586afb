/** A tiny positional-parameter builder: values go in `params`, SQL gets `$n` placeholders. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export class Sql {
  readonly params: unknown[] = [];

  /** Adds a value and returns its placeholder, with an optional cast (e.g. "bigint[]"). */
  p(value: unknown, cast?: string): string {
    this.params.push(value);
    return cast ? `$${this.params.length}::${cast}` : `$${this.params.length}`;
  }
}

export async function rows<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await db.query(sql, params)) as T[];
}
