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

export class PersistedOperationService {
  private cache = new Map<string, PersistedOperation | null>();

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

  async get(hash: string): Promise<PersistedOperation | null> {
    if (!/^[0-9a-f]{64}$/.test(hash)) return null;
    if (this.cache.has(hash)) return this.cache.get(hash)!;
    const [row] = await this.ds.query<{
      sha256: string; name: string; query: string; created_at: Date;
    }[]>(`SELECT sha256, name, query, created_at FROM persisted_operations WHERE sha256 = $1`, [hash]);
    const op = row ? { sha256: row.sha256, name: row.name, query: row.query, createdAt: row.created_at } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, op);
    return op;
  }

  async list(): Promise<PersistedOperation[]> {
    const rows = await this.ds.query<{
      sha256: string; name: string; query: string; created_at: Date;
    }[]>(`SELECT sha256, name, query, created_at FROM persisted_operations ORDER BY name`);
    return rows.map((r) => ({ sha256: r.sha256, name: r.name, query: r.query, createdAt: r.created_at }));
  }
}
