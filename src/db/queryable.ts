/** Anything that runs SQL with positional parameters: a DataSource, or a transaction's EntityManager. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** The rows of an UPDATE … RETURNING: TypeORM returns [rows, count] for UPDATE and DELETE on postgres. */
export function updatedRows<T>(result: unknown): T[] {
  const r = result as unknown[];
  return (Array.isArray(r[0]) ? r[0] : r) as T[];
}
