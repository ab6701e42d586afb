/**
 * The model store in Postgres (the default; migrations/1765600000000-model-store.ts): files as
 * content-addressed blobs in 4 MiB chunks, artifacts as lists of named files written last. A
 * crash mid-put leaves an incomplete blob and no artifact; the next put of the same files finishes
 * it. Two processes putting the same blob write the same bytes (the sha256 is the key). Files are
 * read one chunk at a time, so a large model never sits in memory twice.
 */
import fs from 'node:fs';
import type { DataSource } from 'typeorm';
import { isSafeFileName, type LocalFile, type ModelStore, ModelStoreError, sameFiles, type StoredFile } from './model-store';

const CHUNK_BYTES = 4 << 20;

export class PostgresModelStore implements ModelStore {
  readonly scheme = 'postgres' as const;

  constructor(
    private readonly ds: DataSource,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {}

  async put(key: string, files: readonly LocalFile[]): Promise<void> {
    const existing = await this.list(key);
    if (existing) {
      if (!sameFiles(existing, files)) throw new ModelStoreError(`the store already holds different files under ${key}`);
      return;
    }
    for (const f of files) await this.putBlob(f);
    const listed: StoredFile[] = files.map(({ name, sha256, size }) => ({ name, sha256, size }));
    await this.ds.query(`INSERT INTO model_store_artifacts (key, files) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO NOTHING`, [key, JSON.stringify(listed)]);
    const stored = await this.list(key);
    if (!stored || !sameFiles(stored, files)) throw new ModelStoreError(`the store already holds different files under ${key}`);
  }

  async list(key: string): Promise<StoredFile[] | null> {
    const rows = await this.ds.query<{ files: StoredFile[] }[]>(`SELECT files FROM model_store_artifacts WHERE key = $1`, [key]);
    return rows[0]?.files ?? null;
  }

  async read(key: string, file: StoredFile, dest: string): Promise<void> {
    const rows = await this.ds.query<{ chunks: number; complete: boolean }[]>(
      `SELECT chunks, complete FROM model_store_blobs WHERE sha256 = $1`,
      [file.sha256],
    );
    const blob = rows[0];
    if (!blob?.complete) throw new ModelStoreError(`${file.name} of ${key} is not in the store`);
    const fd = fs.openSync(dest, 'w');
    try {
      for (let seq = 0; seq < blob.chunks; seq++) {
        const [chunk] = await this.ds.query<{ data: Buffer }[]>(`SELECT data FROM model_store_chunks WHERE sha256 = $1 AND seq = $2`, [file.sha256, seq]);
        if (!chunk) throw new ModelStoreError(`${file.name} of ${key}: chunk ${seq} is missing`);
        fs.writeSync(fd, chunk.data);
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  async describe(): Promise<string> {
    const [row] = await this.ds.query<{ n: string }[]>(`SELECT count(*)::text AS n FROM model_store_artifacts`);
    return `postgres, ${row?.n ?? 0} stored artifacts`;
  }

  private async putBlob(f: LocalFile): Promise<void> {
    if (!isSafeFileName(f.name)) throw new ModelStoreError(`"${f.name}" is not a file name an artifact may hold`);
    const chunks = Math.ceil(f.size / this.chunkBytes);
    const [row] = await this.ds.query<{ complete: boolean }[]>(
      `INSERT INTO model_store_blobs (sha256, size, chunks) VALUES ($1, $2, $3)
       ON CONFLICT (sha256) DO UPDATE SET size = model_store_blobs.size RETURNING complete`,
      [f.sha256, f.size, chunks],
    );
    if (row?.complete) return;
    const fd = fs.openSync(f.path, 'r');
    try {
      const buf = Buffer.allocUnsafe(this.chunkBytes);
      for (let seq = 0; seq < chunks; seq++) {
        const n = fs.readSync(fd, buf, 0, this.chunkBytes, seq * this.chunkBytes);
        await this.ds.query(
          `INSERT INTO model_store_chunks (sha256, seq, data) VALUES ($1, $2, $3)
           ON CONFLICT (sha256, seq) DO UPDATE SET data = EXCLUDED.data`,
          [f.sha256, seq, buf.subarray(0, n)],
        );
      }
    } finally {
      fs.closeSync(fd);
    }
    await this.ds.query(`UPDATE model_store_blobs SET complete = true WHERE sha256 = $1`, [f.sha256]);
  }
}
