/**
 * Keyset pagination shared by every connection: opaque cursors, `first` bounds, and the
 * page shape services return. Cursors are base64url JSON of the sort key of the last row.
 */
import { ValidationError } from './errors';

/** Largest page any connection serves. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export interface PageArgs {
  readonly first?: number | null;
  readonly after?: string | null;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly cursors: readonly string[];
  readonly hasNextPage: boolean;
}

export function pageSize(first: number | null | undefined, path = 'first'): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw ValidationError.of(path, `must be an integer between 1 and ${MAX_PAGE_SIZE}`);
  }
  return first;
}

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor made by encodeCursor with `arity` parts; anything else is BAD_USER_INPUT on `after`. */
export function decodeCursor(cursor: string, arity: number, path = 'after'): string[] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === arity &&
      parsed.every((p) => typeof p === 'string' || typeof p === 'number')
    ) {
      return parsed.map(String);
    }
  } catch {
    // fall through to the validation error
  }
  throw ValidationError.of(path, 'is not a valid cursor');
}

/** Turns `limit + 1` fetched rows into a page; `keyOf` gives the sort key of a row. */
export function toPage<T>(rows: readonly T[], limit: number, keyOf: (row: T) => (string | number)[]): Page<T> {
  const items = rows.slice(0, limit);
  return { items, cursors: items.map((r) => encodeCursor(keyOf(r))), hasNextPage: rows.length > limit };
}

/** A cursor over a numeric id key. */
export function decodeIdCursor(cursor: string, path = 'after'): string {
  const [id] = decodeCursor(cursor, 1, path);
  if (!/^[0-9]{1,18}$/.test(id!)) throw ValidationError.of(path, 'is not a valid cursor');
  return id!;
}

/** A cursor over (timestamp, numeric id). */
export function decodeTimeIdCursor(cursor: string, path = 'after'): [string, string] {
  const [ts, id] = decodeCursor(cursor, 2, path);
  if (!Number.isFinite(Date.parse(ts!)) || !/^[0-9]{1,18}$/.test(id!)) throw ValidationError.of(path, 'is not a valid cursor');
  return [ts!, id!];
}
