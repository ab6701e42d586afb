/** Helpers for the serving tests: configs, artifact copies to corrupt, a log-capturing logger. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Logger } from '../../src/common/logger';
import { type Config, loadConfig } from '../../src/config/config';
import { createDataSource } from '../../src/db/data-source';
import type { Database } from '../../src/db/database';
import type { DataSource } from 'typeorm';
import { createModelFiles } from '../../src/inference/model-files';
import { ModelRegistry } from '../../src/inference/model-registry';
import { modelKinds } from '../../src/services';
import { openTestDatabase, realPostgresAvailable } from '../helpers/db';

export const ROOT = path.resolve(__dirname, '../..');
export const SHIPPED = path.join(ROOT, 'model-artifacts');

/** A test config: no demo seeding, no periodic model sync, one inference worker unless overridden. */
export function servingConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    MERIDIAN_SEED_DEMO: 'false',
    MERIDIAN_MODEL_SYNC_MS: '0',
    MERIDIAN_INFERENCE_WORKERS: '1',
    MERIDIAN_DATA_DIR: tempDir('data'),
    ...env,
  });
}

/** A registry on `ds` with this config's model store and cache, and the shipped baselines in `artifactsDir`. */
export function testRegistry(ds: DataSource, config: Config, artifactsDir: string, logger: Logger): ModelRegistry {
  return new ModelRegistry(ds, { inference: config.inference, artifactsDir, files: createModelFiles(ds, config.modelStore, artifactsDir) }, logger, modelKinds);
}

/**
 * The test database for serving tests. On the embedded database the pool has one connection:
 * pglite-socket queues each protocol message separately and interleaves connections, so two
 * extended-protocol queries in flight on two connections can clobber each other's unnamed
 * statement ("bind message supplies 1 parameters, but prepared statement requires 2"). One
 * connection serialises them; PGlite runs one query at a time anyway.
 */
export async function openServingDatabase(): Promise<Database> {
  if (realPostgresAvailable()) return openTestDatabase();
  const url = process.env.MERIDIAN_TEST_EMBEDDED_URL;
  if (!url) throw new Error('embedded test database not started (globalSetup)');
  const dataSource = createDataSource({ url, poolSize: 1 });
  await dataSource.initialize();
  return { kind: 'embedded', dataSource, url, close: () => dataSource.destroy() };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `meridian-${prefix}-`));
}

/** Copies a shipped artifact (model, manifest and the kind's files) into `dest` (default: a new temp dir). */
export function copyArtifact(kind: string, dest = path.join(tempDir('art'), kind)): string {
  fs.mkdirSync(dest, { recursive: true });
  for (const f of fs.readdirSync(path.join(SHIPPED, kind))) {
    if (f === 'checkpoint.pt' || f === 'train.jsonl') continue; // not read by the server
    fs.copyFileSync(path.join(SHIPPED, kind, f), path.join(dest, f));
  }
  return dest;
}

export function sha256(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

type Manifest = Record<string, unknown> & { version: string; model: { sha256: string; opset: number } };

export function editManifest(dir: string, edit: (m: Manifest) => void): void {
  const p = path.join(dir, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(p, 'utf8')) as Manifest;
  edit(m);
  fs.writeFileSync(p, JSON.stringify(m, null, 2));
}

/** Replaces model.onnx and, when `rehash`, records its sha256 so only the deeper checks can refuse it. */
export function replaceModel(dir: string, bytes: Uint8Array, rehash: boolean): void {
  fs.writeFileSync(path.join(dir, 'model.onnx'), bytes);
  if (rehash) editManifest(dir, (m) => (m.model.sha256 = sha256(bytes)));
}

/** Offset of the default-domain opset version varint in a ModelProto (field 8 → field 2). */
export function opsetVersionOffset(model: Uint8Array): number {
  let pos = 0;
  const varint = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = model[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      shift += 7;
    }
  };
  while (pos < model.length) {
    const key = varint();
    const wire = key & 7;
    if (key >> 3 === 8 && wire === 2) {
      const len = varint();
      const end = pos + len;
      let domainEmpty = true;
      let at = -1;
      while (pos < end) {
        const k = varint();
        if (k >> 3 === 1 && (k & 7) === 2) {
          const l = varint();
          domainEmpty = l === 0;
          pos += l;
        } else if (k >> 3 === 2 && (k & 7) === 0) {
          at = pos;
          varint();
        } else throw new Error('unexpected opset field');
      }
      if (domainEmpty && at >= 0) return at;
    } else if (wire === 0) varint();
    else if (wire === 2) {
      const len = varint(); // not `pos += varint()`: that would add to the position before the length
      pos += len;
    }
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
  }
  throw new Error('no default opset');
}

export interface CapturedLog {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export function capturingLogger(): { logger: Logger; lines: CapturedLog[] } {
  const lines: CapturedLog[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as CapturedLog) });
  return { logger, lines };
}

/**
 * A started registry whose shipped artifacts are a temp copy of the shipped `kind` only (so boot
 * loads nothing else), with servingConfig(env).
 */
export async function startRegistry(
  db: Database,
  kind: string,
  env: Record<string, string> = {},
): Promise<{ registry: ModelRegistry; artifactsDir: string }> {
  const artifactsDir = tempDir('shipped');
  copyArtifact(kind, path.join(artifactsDir, kind));
  const registry = testRegistry(db.dataSource, servingConfig(env), artifactsDir, capturingLogger().logger);
  await registry.start();
  return { registry, artifactsDir };
}
