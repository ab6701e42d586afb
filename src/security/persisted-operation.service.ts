/**
 * The persisted-operation allow-list: operations an admin has registered by their SHA-256.
 * Partner keys may only run these (when PARTNER_ALLOWLIST_ONLY), sending either the hash
 * (APQ-style `extensions.persistedQuery.sha256Hash`) or the identical query text.
 */
import crypto from 'node:crypto';
import { parse } from 'graphql';
import type { DataSource } from 'typeorm';
import { ValidationError } from '../common/errors';

export interface PersistedOperation {
  readonly sha256: string;
  readonly name: string;
  readonly query: string;
  readonly createdAt: Date;
}

export function sha256Hex(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

/**
 * How long "not registered" is remembered. Operations are only ever added (by any server of a
 * fleet, through the shared table), so a found operation is kept, and a miss is asked again soon.
 */
const MISS_CACHE_MS = 2_000;

export class PersistedOperationService {
  /** By hash: the operation, or the time a miss stops being believed. */
  private cache = new Map<string, PersistedOperation | { readonly missUntil: number }>();

  constructor(private readonly ds: DataSource) {}

  async register(name: string, query: string): Promise<PersistedOperation> {
    if (!name?.trim() || name.length > 200) throw ValidationError.of('name', 'must be 1–200 characters');
    if (!query?.trim() || query.length > 20_000) throw ValidationError.of('query', 'must be 1–20000 characters');
    try {
      parse(query);
    } catch (err) {
      throw ValidationError.of('query', `is not a GraphQL document: ${err instanceof Error ? err.message : String(err)}`);
    }
    const hash = sha256Hex(query);
    const [row] = await this.ds.query<{ sha256: string; name: string; query: string; created_at: Date }[]>(
      `INSERT INTO persisted_operations (sha256, name, query) VALUES ($1, $2, $3)
       ON CONFLICT (sha256) DO UPDATE SET name = EXCLUDED.name RETURNING sha256, name, query, created_at`,
      [hash, name.trim(), query],
    );
    this.cache.delete(hash);
    return { sha256: row!.sha256, name: row!.name, query: row!.query, createdAt: row!.created_at };
  }

  /**
   * Makes the allow-list hold exactly `ops` among the operations named `${prefix}…`: each is added
   * if its text is not registered yet (an operation an admin registered keeps its name), and rows
   * of that prefix that are no longer listed are removed (a console upgrade drops its old texts;
   * a server that cached one forgets it at its restart).
   */
  async syncNamed(prefix: string, ops: readonly { name: string; query: string }[]): Promise<void> {
    const hashes = ops.map((o) => sha256Hex(o.query));
    for (const [i, op] of ops.entries()) {
      await this.ds.query(`INSERT INTO persisted_operations (sha256, name, query) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING`, [hashes[i], `${prefix}${op.name}`, op.query]);
    }
    await this.ds.query(`DELETE FROM persisted_operations WHERE starts_with(name, $1) AND NOT (sha256 = ANY($2::text[]))`, [prefix, hashes]);
    for (const h of hashes) this.cache.delete(h);
  }

  async get(hash: string): Promise<PersistedOperation | null> {
    if (!/^[0-9a-f]{64}$/.test(hash)) return null;
    const cached = this.cache.get(hash);
    if (cached && (!('missUntil' in cached) || cached.missUntil > Date.now())) return 'missUntil' in cached ? null : cached;
    const [row] = await this.ds.query<{
      sha256: string; name: string; query: string; created_at: Date;
    }[]>(`SELECT sha256, name, query, created_at FROM persisted_operations WHERE sha256 = $1`, [hash]);
    const op = row ? { sha256: row.sha256, name: row.name, query: row.query, createdAt: row.created_at } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, op ?? { missUntil: Date.now() + MISS_CACHE_MS });
    return op;
  }

  async list(): Promise<PersistedOperation[]> {
    const rows = await this.ds.query<{
      sha256: string; name: string; query: string; created_at: Date;
    }[]>(`SELECT sha256, name, query, created_at FROM persisted_operations ORDER BY name`);
    return rows.map((r) => ({ sha256: r.sha256, name: r.name, query: r.query, createdAt: r.created_at }));
  }
}
