/**
 * The audit log of admin actions: who did what to which target, when. On a user's erasure the
 * entries keep what was done but no longer name the user (scrubUserFromAuditLog).
 */
import type { DataSource } from 'typeorm';
import type { Principal } from './principal';
import type { Queryable } from '../db/queryable';

export interface AuditEntry {
  readonly id: string;
  readonly at: Date;
  readonly actorKeyId: string | null;
  readonly actorRole: string;
  readonly action: string;
  readonly target: string | null;
  readonly details: Record<string, unknown>;
  readonly requestId: string | null;
}

export class AuditService {
  constructor(private readonly ds: DataSource) {}

  async record(actor: Principal, action: string, target: string | null, details: Record<string, unknown>, requestId: string | null): Promise<void> {
    await this.ds.query(
      `INSERT INTO audit_log (actor_key_id, actor_role, action, target, details, request_id) VALUES ($1, $2, $3, $4, $5, $6)`,
      [actor.keyId, actor.role, action, target, JSON.stringify(details), requestId],
    );
  }

  async recent(limit: number): Promise<AuditEntry[]> {
    const rows = await this.ds.query<{
      id: string; at: Date; actor_key_id: string | null; actor_role: string; action: string; target: string | null;
      details: Record<string, unknown>; request_id: string | null;
    }[]>(`SELECT * FROM audit_log ORDER BY id DESC LIMIT $1`, [limit]);
    return rows.map((r) => ({
      id: r.id, at: r.at, actorKeyId: r.actor_key_id, actorRole: r.actor_role, action: r.action,
      target: r.target, details: r.details, requestId: r.request_id,
    }));
  }
}

/** Drops secrets and bulky payloads from mutation arguments before they are written to the log. */
export function summarizeArgs(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (/secret|key$|password|token/i.test(k)) out[k] = '***';
    else if (Array.isArray(v)) out[k] = { count: v.length };
    else if (typeof v === 'string' && v.length > 200) out[k] = `${v.slice(0, 200)}…`;
    else out[k] = v;
  }
  return out;
}

/** What an erased user's id is replaced with in audit details. */
export const ERASED = '(erased user)';

/**
 * Right to erasure (run by deleteUser inside its transaction): every `userId` / `user_id` field in
 * audit details (e.g. createApiKey's input) that names the user is replaced by ERASED. deleteUser's
 * own entry is written after the erasure and keeps the id: the record that the erasure happened.
 */
export async function scrubUserFromAuditLog(db: Queryable, userId: string): Promise<void> {
  // GraphQL ID arguments arrive as strings, or as numbers when a client sent an integer.
  const rows = (await db.query(
    `SELECT id, details FROM audit_log
     WHERE jsonb_path_exists(details, '$.** ? (@.userId == $s || @.userId == $n || @.user_id == $s || @.user_id == $n)',
                             jsonb_build_object('s', $1::text, 'n', $1::text::numeric))`,
    [userId],
  )) as { id: string; details: unknown }[];
  for (const r of rows) {
    await db.query(`UPDATE audit_log SET details = $2 WHERE id = $1`, [r.id, JSON.stringify(scrub(r.details, userId))]);
  }
}

function scrub(value: unknown, userId: string): unknown {
  if (Array.isArray(value)) return value.map((v) => scrub(v, userId));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, (k === 'userId' || k === 'user_id') && String(v) === userId ? ERASED : scrub(v, userId)]),
  );
}

/** How a user's erasure reaches the audit log (an ErasurePart of privacy/erasure-registry.ts, wired in src/services.ts). */
export const auditErasure = {
  name: 'auditLog',
  hook: scrubUserFromAuditLog,
  stores: [
    {
      table: 'audit_log',
      userColumn: null,
      retained:
        'the entry of the deleteUser call itself (target = the erased id) is kept as the record that the erasure ' +
        'happened; every other mention of the id as a user (details …userId) is replaced',
    },
  ],
} as const;
