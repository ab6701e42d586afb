/**
 * One model store for the fleet (issue 18, part 2). A version registered by one process (a worker
 * that trained it) is loaded and served by another that never saw its files: in Postgres by default
 * (the embedded database too), or in a shared directory. Every file is checked against its sha256
 * on the way out of the store and in the local cache; a damaged copy is fetched again, a damaged
 * stored file is refused and the serving version stays.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode } from '../../src/common/errors';
import type { Database } from '../../src/db/database';
import { DirectoryModelStore } from '../../src/inference/directory-model-store';
import { ModelFiles } from '../../src/inference/model-files';
import type { ModelRegistry } from '../../src/inference/model-registry';
import { localFiles, type ModelStore } from '../../src/inference/model-store';
import { ModelVersionRepository } from '../../src/inference/model-version.repository';
import { PostgresModelStore } from '../../src/inference/postgres-model-store';
import {
  capturingLogger, copyArtifact, editManifest, openServingDatabase, servingConfig, SHIPPED, tempDir, testRegistry,
} from '../serving/serving-helpers';

let db: Database;

beforeAll(async () => {
  db = await openServingDatabase();
});

afterAll(async () => {
  await db?.close();
});

/**
 * A copy of the shipped next-item artifact under a version of its own, with a file of random bytes
 * no other artifact shares (stored blobs are shared by hash: a test damages only its own).
 */
function artifact(tag: string): string {
  const dir = copyArtifact('next-item');
  editManifest(dir, (m) => (m.version = `${m.version}-store-${tag}-${Date.now()}`));
  fs.writeFileSync(path.join(dir, 'extra.bin'), crypto.randomBytes(200_000));
  return dir;
}

const stores: [string, () => ModelStore][] = [
  // Small chunks, so every file of the artifact spans several of them.
  ['postgres', () => new PostgresModelStore(db.dataSource, 64 * 1024)],
  ['directory', () => new DirectoryModelStore(tempDir('store'))],
];

describe.each(stores)('the %s store', (_name, open) => {
  it('gives back every file as it was put, through a fresh cache, and a second put changes nothing', async () => {
    const store = open();
    const src = artifact('roundtrip');
    const files = localFiles(src);
    const key = `next-item/roundtrip-${Date.now()}@0123456789abcdef`;
    expect(await store.list(key)).toBeNull();
    await store.put(key, files);
    await store.put(key, files); // a retried registration
    expect((await store.list(key))!.map((f) => f.name).sort()).toEqual(files.map((f) => f.name).sort());

    const cache = tempDir('cache');
    const local = await new ModelFiles(store, cache, SHIPPED).localDir(`${store.scheme}:${key}`);
    expect(local.startsWith(cache)).toBe(true);
    for (const f of files) expect(fs.readFileSync(path.join(local, f.name)).equals(fs.readFileSync(f.path))).toBe(true);
    expect(await store.describe()).toMatch(store.scheme);
  });

  it('refuses different files under a key it holds', async () => {
    const store = open();
    const key = `next-item/conflict-${Date.now()}@0123456789abcdef`;
    await store.put(key, localFiles(artifact('one')));
    await expect(store.put(key, localFiles(artifact('two')))).rejects.toThrow(/already holds different files/);
  });
});

describe('the local cache', () => {
  it('fetches a damaged cached file again, and refuses a stored file that does not match its hash', async () => {
    const store = new PostgresModelStore(db.dataSource, 64 * 1024);
    const src = artifact('damage');
    const files = localFiles(src);
    const key = `next-item/damage-${Date.now()}@0123456789abcdef`;
    await store.put(key, files);
    const cache = new ModelFiles(store, tempDir('cache'), SHIPPED);
    const local = await cache.localDir(`postgres:${key}`);

    fs.writeFileSync(path.join(local, 'extra.bin'), 'damaged'); // a damaged copy on this machine
    expect(await cache.localDir(`postgres:${key}`)).toBe(local);
    expect(fs.readFileSync(path.join(local, 'extra.bin')).equals(fs.readFileSync(path.join(src, 'extra.bin')))).toBe(true);

    // A stored chunk changed under the store: nothing is installed in a fresh cache.
    const extra = files.find((f) => f.name === 'extra.bin')!;
    await db.dataSource.query(`UPDATE model_store_chunks SET data = '\\x00'::bytea WHERE sha256 = $1 AND seq = 1`, [extra.sha256]);
    const freshCache = tempDir('cache');
    await expect(new ModelFiles(store, freshCache, SHIPPED).localDir(`postgres:${key}`)).rejects.toThrow(/extra\.bin has \d+ bytes, the store says 200000/);
    expect(fs.readdirSync(path.join(freshCache, 'next-item'))).toEqual([]); // nothing installed, no temp left
  });

  it('finishes a blob a crashed put left incomplete', async () => {
    const store = new PostgresModelStore(db.dataSource, 64 * 1024);
    const files = localFiles(artifact('crash'));
    const extra = files.find((f) => f.name === 'extra.bin')!;
    // What a put that died after the first chunk of extra.bin leaves (no artifact listed).
    await db.dataSource.query(`INSERT INTO model_store_blobs (sha256, size, chunks) VALUES ($1, $2, $3)`, [extra.sha256, extra.size, Math.ceil(extra.size / (64 * 1024))]);
    await db.dataSource.query(`INSERT INTO model_store_chunks (sha256, seq, data) VALUES ($1, 0, $2)`, [extra.sha256, fs.readFileSync(extra.path).subarray(0, 64 * 1024)]);
    const key = `next-item/crash-${Date.now()}@0123456789abcdef`;
    await store.put(key, files);
    const local = await new ModelFiles(store, tempDir('cache'), SHIPPED).localDir(`postgres:${key}`);
    expect(fs.readFileSync(path.join(local, 'extra.bin')).equals(fs.readFileSync(extra.path))).toBe(true);
  });
});

describe.each<[string, Record<string, string>]>([
  ['postgres', {}],
  ['directory', { MERIDIAN_MODEL_STORE: 'directory' }],
])('two processes with their own data folders, %s store', (_name, storeEnv) => {
  const registries: ModelRegistry[] = [];
  afterEach(async () => {
    for (const r of registries.splice(0)) await r.stop();
  });

  it('one registers a version from its own folder; the other loads and serves it after that folder is gone', async () => {
    const shared = tempDir('shared-store');
    const env = { ...storeEnv, ...(storeEnv.MERIDIAN_MODEL_STORE ? { MERIDIAN_MODEL_STORE_DIR: shared } : {}), MERIDIAN_LOAD_MODELS: 'false' };
    const artifactsDir = tempDir('shipped');
    const serverConfig = servingConfig(env);
    const worker = testRegistry(db.dataSource, servingConfig(env), artifactsDir, capturingLogger().logger);
    const server = testRegistry(db.dataSource, serverConfig, artifactsDir, capturingLogger().logger);
    registries.push(worker, server);
    await worker.start();
    await server.start();

    const trained = artifact('fleet');
    const candidate = await worker.register('next-item', trained);
    expect(candidate.artifactPath.startsWith(`${storeEnv.MERIDIAN_MODEL_STORE ?? 'postgres'}:next-item/`)).toBe(true);
    fs.rmSync(trained, { recursive: true }); // the trainer's attempt folder is pruned

    const promoted = await server.promote(candidate.id);
    expect(promoted.status).toBe('active');
    expect(server.active('next-item')?.id).toBe(candidate.id);
    const dir = await server.artifactDir(promoted);
    expect(dir.startsWith(serverConfig.modelStore.cacheDir)).toBe(true); // its own copy, from the store
    expect(fs.existsSync(path.join(dir, 'model.onnx'))).toBe(true);
    expect(await server.artifactFiles(promoted)).toEqual(expect.arrayContaining(['manifest.json', 'model.onnx', 'items.json', 'extra.bin']));
  });
});

describe('a damaged stored version', () => {
  it('is refused at promotion by a process that has no copy of it, and the serving version stays', async () => {
    const artifactsDir = tempDir('shipped');
    copyArtifact('next-item', path.join(artifactsDir, 'next-item'));
    const env = { MERIDIAN_LOAD_MODELS: 'true' };
    const worker = testRegistry(db.dataSource, servingConfig(env), artifactsDir, capturingLogger().logger);
    const server = testRegistry(db.dataSource, servingConfig(env), artifactsDir, capturingLogger().logger);
    try {
      await worker.start();
      await server.start();
      const serving = server.active('next-item')!.id;
      const trained = artifact('damaged');
      const candidate = await worker.register('next-item', trained);
      const extra = localFiles(trained).find((f) => f.name === 'extra.bin')!;
      await db.dataSource.query(`UPDATE model_store_chunks SET data = '\\x00'::bytea WHERE sha256 = $1 AND seq = 0`, [extra.sha256]);

      await expect(server.promote(candidate.id)).rejects.toMatchObject({ code: ErrorCode.MODEL_ARTIFACT_INVALID });
      expect(server.active('next-item')!.id).toBe(serving);
      expect((await new ModelVersionRepository(db.dataSource).byId(candidate.id))!.status).toBe('candidate');
    } finally {
      await server.stop();
      await worker.stop();
    }
  });
});
