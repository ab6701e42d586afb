/**
 * API keys: created and revoked by admins, stored as SHA-256 hashes (keys are 256-bit random
 * secrets, so a fast hash is enough), looked up by a public prefix and compared in constant time.
 * Format: `mk_<prefix>_<secret>`.
 */
import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DomainError, ErrorCode, IssueCollector, NotFoundError, ValidationError } from '../common/errors';
import { isNumericId } from '../db/query-filters';
import { type Principal, type Role, ROLES } from './principal';

export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly userId: string | null;
  readonly prefix: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
}

export interface CreatedApiKey {
  readonly record: ApiKeyRecord;
  /** The full key; shown once and never stored. */
  readonly secret: string;
}

interface Row {
  id: string; name: string; role: Role; user_id: string | null; prefix: string; key_hash: string;
  created_at: Date; revoked_at: Date | null; last_used_at: Date | null;
}

/** A revocation on another server of the fleet is seen within this (issue 18: within 5 s, with margin). */
const CACHE_MS = 4_000;

function sha256(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

function toRecord(r: Row): ApiKeyRecord {
  return {
    id: r.id, name: r.name, role: r.role, userId: r.user_id, prefix: r.prefix,
    createdAt: r.created_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at,
  };
}

export class ApiKeyService {
  /** Short-lived cache of successful lookups; revocation clears it, so it only spares the database. */
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private readonly adminKeyHash: string | null;

  constructor(
    private readonly ds: DataSource,
    adminKey: string | undefined,
  ) {
    this.adminKeyHash = adminKey ? sha256(adminKey) : null;
  }

  async create(input: { name: string; role: Role; userId?: string | null }): Promise<CreatedApiKey> {
    const issues = new IssueCollector();
    if (!input.name?.trim() || input.name.length > 200) issues.add('input.name', 'must be 1–200 characters');
    if (!(ROLES as readonly string[]).includes(input.role)) issues.add('input.role', `must be one of ${ROLES.join(', ')}`);
    if (input.userId != null && input.role !== 'frontend') issues.add('input.userId', 'only frontend keys are scoped to a user');
    if (input.userId != null && !isNumericId(input.userId)) issues.add('input.userId', 'is not a valid id');
    issues.throwIfAny();
    if (input.userId != null) {
      const found = await this.ds.query<unknown[]>(`SELECT 1 FROM users WHERE id = $1`, [input.userId]);
      if (found.length === 0) throw ValidationError.of('input.userId', `unknown user ${input.userId}`);
    }
    const prefix = crypto.randomBytes(6).toString('hex');
    const secret = `mk_${prefix}_${crypto.randomBytes(32).toString('base64url')}`;
    const [row] = await this.ds.query<Row[]>(
      `INSERT INTO api_keys (name, role, user_id, prefix, key_hash) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [input.name.trim(), input.role, input.userId ?? null, prefix, sha256(secret)],
    );
    return { record: toRecord(row!), secret };
  }

  async revoke(id: string): Promise<ApiKeyRecord> {
    if (!isNumericId(id)) throw ValidationError.of('id', 'is not a valid id');
    const rows = await this.ds.query<[Row[], number] | Row[]>(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING *`,
      [id],
    );
    const row = (Array.isArray(rows[0]) ? (rows[0])[0] : (rows as Row[])[0]);
    if (!row) throw new NotFoundError('API key', id);
    this.clearCache();
    return toRecord(row);
  }

  /** Forget cached lookups (after revocations or deleted users), so the next request re-checks the table. */
  clearCache(): void {
    this.cache.clear();
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.ds.query<Row[]>(`SELECT * FROM api_keys ORDER BY id`)).map(toRecord);
  }

  async countActiveAdmins(): Promise<number> {
    const [{ n }] = await this.ds.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL`);
    return n;
  }

  /**
   * Of these key ids, the ones not revoked (nor deleted), read from the table itself: one query,
   * no cache, no last_used_at write. Open WebSockets re-check their keys with it, so a revocation
   * by another process is seen without emptying the cache HTTP requests rely on.
   */
  async unrevoked(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.ds.query<{ id: string }[]>(`SELECT id::text AS id FROM api_keys WHERE id = ANY($1::bigint[]) AND revoked_at IS NULL`, [ids]);
    return new Set(rows.map((r) => r.id));
  }

  /** The principal for a presented key, or null when it is unknown or revoked. */
  async authenticate(presented: string): Promise<Principal | null> {
    const hash = sha256(presented);
    if (this.adminKeyHash && crypto.timingSafeEqual(Buffer.from(hash), Buffer.from(this.adminKeyHash))) {
      return { keyId: null, role: 'admin', userId: null, name: 'MERIDIAN_ADMIN_KEY' };
    }
    const cached = this.cache.get(hash);
    if (cached && cached.until > Date.now()) return cached.principal;
    const m = /^mk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/.exec(presented);
    if (!m) return null;
    const [row] = await this.ds.query<Row[]>(`SELECT * FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL`, [m[1]]);
    if (!row || !crypto.timingSafeEqual(Buffer.from(sha256(presented)), Buffer.from(row.key_hash))) return null;
    const principal: Principal = { keyId: row.id, role: row.role, userId: row.user_id, name: row.name };
    this.cache.set(hash, { principal, until: Date.now() + CACHE_MS });
    void this.ds.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, [row.id]).catch(() => undefined);
    return principal;
  }
}

export class AuthError extends DomainError {
  constructor(message = 'A valid API key is required (Authorization: Bearer <key>)') {
    super(ErrorCode.UNAUTHENTICATED, message);
  }
}
