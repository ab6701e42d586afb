/**
 * SQL over model_versions. Activation is one statement that archives the current active version
 * and activates the target; a deferred exclusion constraint guarantees one active version per kind
 * even when two processes race (the loser's statement fails and changes nothing).
 */
import { MODEL_CHANNEL } from './model-change-listener';
import type { DataSource } from 'typeorm';
import type { ModelKind, ModelStatus } from './model-kind';

export interface ModelVersionRecord {
  readonly id: string;
  readonly kind: ModelKind;
  readonly version: string;
  readonly status: ModelStatus;
  /** Relative paths are relative to the model artifacts directory (the shipped baselines). */
  readonly artifactPath: string;
  readonly sha256: string;
  readonly manifest: Record<string, unknown>;
  readonly metrics: Record<string, unknown>;
  readonly sourceJobId: string | null;
  readonly createdAt: Date;
  readonly activatedAt: Date | null;
  readonly previousActiveId: string | null;
}

interface Row {
  id: string;
  kind: ModelKind;
  version: string;
  status: ModelStatus;
  artifact_path: string;
  sha256: string;
  manifest: Record<string, unknown>;
  metrics: Record<string, unknown>;
  source_job_id: string | null;
  created_at: Date;
  activated_at: Date | null;
  previous_active_id: string | null;
}

const COLUMNS = `id::text AS id, kind, version, status, artifact_path, sha256, manifest, metrics, source_job_id,
  created_at, activated_at, previous_active_id::text AS previous_active_id`;

function toRecord(r: Row): ModelVersionRecord {
  return {
    id: r.id,
    kind: r.kind,
    version: r.version,
    status: r.status,
    artifactPath: r.artifact_path,
    sha256: r.sha256,
    manifest: r.manifest,
    metrics: r.metrics,
    sourceJobId: r.source_job_id,
    createdAt: new Date(r.created_at),
    activatedAt: r.activated_at ? new Date(r.activated_at) : null,
    previousActiveId: r.previous_active_id,
  };
}

export interface NewModelVersion {
  readonly kind: ModelKind;
  readonly version: string;
  readonly artifactPath: string;
  readonly sha256: string;
  readonly manifest: Record<string, unknown>;
  readonly metrics: Record<string, unknown>;
  readonly sourceJobId: string | null;
}

export class ModelVersionRepository {
  constructor(private readonly ds: DataSource) {}

  async byId(id: string): Promise<ModelVersionRecord | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    const rows = await this.ds.query<Row[]>(`SELECT ${COLUMNS} FROM model_versions WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async active(kind: ModelKind): Promise<ModelVersionRecord | null> {
    const rows = await this.ds.query<Row[]>(`SELECT ${COLUMNS} FROM model_versions WHERE kind = $1 AND status = 'active'`, [kind]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Active version per kind, one query (the periodic sync). */
  async activeAll(): Promise<ModelVersionRecord[]> {
    return (await this.ds.query<Row[]>(`SELECT ${COLUMNS} FROM model_versions WHERE status = 'active'`)).map(toRecord);
  }

  async list(kind: ModelKind): Promise<ModelVersionRecord[]> {
    const rows = await this.ds.query<Row[]>(
      `SELECT ${COLUMNS} FROM model_versions WHERE kind = $1 ORDER BY created_at DESC, id DESC`,
      [kind],
    );
    return rows.map(toRecord);
  }

  async find(kind: ModelKind, version: string): Promise<ModelVersionRecord | null> {
    const rows = await this.ds.query<Row[]>(`SELECT ${COLUMNS} FROM model_versions WHERE kind = $1 AND version = $2`, [kind, version]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async bySourceJob(sourceJobId: string): Promise<ModelVersionRecord | null> {
    const rows = await this.ds.query<Row[]>(`SELECT ${COLUMNS} FROM model_versions WHERE source_job_id = $1`, [sourceJobId]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Inserts a candidate; an existing (kind, version) or source job is returned instead (idempotent). */
  async insertCandidate(v: NewModelVersion): Promise<{ record: ModelVersionRecord; created: boolean }> {
    let rows: Row[] = [];
    try {
      // The conflict target is explicit: ON CONFLICT cannot arbitrate on the deferred "one active" constraint.
      rows = await this.ds.query<Row[]>(
        `INSERT INTO model_versions (kind, version, status, artifact_path, sha256, manifest, metrics, source_job_id)
         VALUES ($1, $2, 'candidate', $3, $4, $5::jsonb, $6::jsonb, $7)
         ON CONFLICT (kind, version) DO NOTHING
         RETURNING ${COLUMNS}`,
        [v.kind, v.version, v.artifactPath, v.sha256, JSON.stringify(v.manifest), JSON.stringify(v.metrics), v.sourceJobId],
      );
    } catch (err) {
      // The same source job registered concurrently (unique index on source_job_id): return that version.
      if ((err as { code?: string }).code !== '23505' || !v.sourceJobId) throw err;
    }
    if (rows[0]) return { record: toRecord(rows[0]), created: true };
    const existing = (v.sourceJobId ? await this.bySourceJob(v.sourceJobId) : null) ?? (await this.find(v.kind, v.version));
    if (!existing) throw new Error(`model version ${v.kind} ${v.version} conflicted but cannot be found`);
    return { record: existing, created: false };
  }

  /**
   * Makes `id` the active version of its kind and archives the current one, in one statement
   * (atomic; the deferred exclusion constraint checks "one active per kind" at its end). No
   * explicit transaction: on the embedded database an open transaction on one pooled connection is
   * not isolated from the queries other requests send meanwhile.
   * `previous`: 'current' records the replaced version for rollback (promote); 'keep' leaves the
   * target's own chain in place (rollback, so a second rollback goes further back).
   */
  async activate(id: string, previous: 'current' | 'keep'): Promise<ModelVersionRecord> {
    if (!/^\d{1,18}$/.test(id)) throw new Error(`model version ${id} not found`);
    const result = await this.ds.query<[Row[], number] | Row[]>(
      `WITH target AS (SELECT id AS tid, kind AS tkind FROM model_versions WHERE id = $1),
            replaced AS (
              UPDATE model_versions SET status = 'archived'
              WHERE status = 'active' AND kind = (SELECT tkind FROM target) AND id <> $1
              RETURNING id AS rid)
       UPDATE model_versions SET
         status = 'active',
         activated_at = CASE WHEN status = 'active' THEN activated_at ELSE now() END,
         previous_active_id = CASE WHEN $2::text = 'current' AND EXISTS (SELECT 1 FROM replaced)
                                   THEN (SELECT rid FROM replaced LIMIT 1) ELSE previous_active_id END
       FROM target WHERE id = target.tid
       RETURNING ${COLUMNS}`,
      [id, previous],
    );
    // TypeORM returns [rows, count] for UPDATE … RETURNING on postgres.
    const rows = (Array.isArray(result[0]) ? result[0] : result) as Row[];
    if (!rows[0]) throw new Error(`model version ${id} not found`);
    return toRecord(rows[0]);
  }

  /** Tells every listening server that `kind` has a new active version (model-change-listener.ts). */
  async announce(kind: ModelKind, id: string): Promise<void> {
    await this.ds.query(`SELECT pg_notify($1, $2)`, [MODEL_CHANNEL, `${kind}:${id}`]);
  }
}
