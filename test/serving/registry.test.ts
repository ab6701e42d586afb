/**
 * The model registry on a real database with real ONNX files: boot registration of the shipped
 * baseline, verification that refuses bad artifacts while the serving version keeps serving,
 * candidate → promote → rollback, a job's register-and-promote, and the explicit CUDA → CPU fallback.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode } from '../../src/common/errors';
import type { Database } from '../../src/db/database';
import { ModelArtifactError } from '../../src/inference/inference.errors';
import { ModelRegistry } from '../../src/inference/model-registry';
import type { WorkerPool } from '../../src/inference/worker-pool';
import { int64 } from '../../src/inference/tensor';

import {
  capturingLogger, copyArtifact, editManifest, openServingDatabase, opsetVersionOffset, replaceModel, servingConfig, SHIPPED, startRegistry, testRegistry,
} from './serving-helpers';

let db: Database;
let registry: ModelRegistry;
let artifactsDir: string;
const shippedVersion = (kind: string) => (JSON.parse(fs.readFileSync(path.join(SHIPPED, kind, 'manifest.json'), 'utf8')) as { version: string }).version;

/** One real run on the serving next-item session: the runtime still answers. */
async function nextItemStillServes(r: ModelRegistry): Promise<string> {
  return r.use('next-item', async (m) => {
    const out = await m.run({
      item_seq: int64(new BigInt64Array(50).fill(1n), [1, 50]),
      hour_of_week: int64(BigInt64Array.from([10n]), [1]),
      cell: int64(BigInt64Array.from([0n]), [1]),
    });
    expect(out.top_ids!.dims).toEqual([1, 100]);
    return m.version;
  });
}

async function versionsCount(): Promise<number> {
  const [{ n }] = await db.dataSource.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM model_versions`);
  return n;
}

beforeAll(async () => {
  db = await openServingDatabase();
  // A fresh database for next-item: nothing active, so boot must register and activate the shipped baseline.
  await db.dataSource.query(`UPDATE model_versions SET status = 'archived' WHERE kind = 'next-item' AND status = 'active'`);
  ({ registry, artifactsDir } = await startRegistry(db, 'next-item'));
});

afterAll(async () => {
  // Leave the shipped baseline active for the other test files sharing the embedded database.
  const rows = await db.dataSource.query<{ id: string; status: string }[]>(
    `SELECT id::text AS id, status FROM model_versions WHERE kind = 'next-item' AND version = $1`,
    [shippedVersion('next-item')],
  );
  if (rows[0] && rows[0].status !== 'active') await registry.promote(rows[0].id);
  await registry?.stop();
  await db?.close();
});

describe('boot', () => {
  it('registers and activates the shipped baseline when no version is active', async () => {
    const active = registry.active('next-item');
    expect(active?.version).toBe(shippedVersion('next-item'));
    expect(active?.status).toBe('active');
    const rows = await db.dataSource.query<{ version: string; status: string; artifact_path: string; sha256: string; kind: string }[]>(
      `SELECT version, status, artifact_path, sha256, manifest->>'kind' AS kind FROM model_versions WHERE kind = 'next-item' AND status = 'active'`,
    );
    expect(rows).toEqual([expect.objectContaining({ version: shippedVersion('next-item'), artifact_path: 'next-item', kind: 'next-item' })]);
    expect(rows[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reports kinds without a baseline as unavailable instead of failing', () => {
    // The temp artifacts dir holds only next-item.
    expect(registry.metrics().unavailable).toHaveProperty('intent');
    return expect(registry.use('intent', async () => 1)).rejects.toMatchObject({ code: ErrorCode.MODEL_UNAVAILABLE });
  });
});

describe('verification refuses bad artifacts and the serving version stays', () => {
  const original = () => new Uint8Array(fs.readFileSync(path.join(SHIPPED, 'next-item', 'model.onnx')));
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['an empty model file', (d) => replaceModel(d, new Uint8Array(0), false), /model\.onnx is empty/],
    ['a truncated model file', (d) => replaceModel(d, original().subarray(0, 4000), true), /not a valid ONNX model|onnxruntime cannot load/],
    ['a corrupt model file', (d) => replaceModel(d, Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251), true), /not a valid ONNX model|onnxruntime cannot load/],
    ['bytes that differ from the manifest hash', (d) => replaceModel(d, Uint8Array.from([...original().subarray(0, 100), 1]), false), /sha256 .* does not match/],
    [
      'a model whose opset differs from its manifest',
      (d) => {
        const bytes = original();
        bytes[opsetVersionOffset(bytes)] = 18;
        replaceModel(d, bytes, true);
      },
      /uses opset 18 but the manifest says 17/,
    ],
    [
      'a wrong-opset model onnxruntime cannot load',
      (d) => {
        const bytes = original();
        bytes[opsetVersionOffset(bytes)] = 10; // LayerNormalization and friends do not exist in opset 10
        replaceModel(d, bytes, true);
        editManifest(d, (m) => (m.model.opset = 10));
      },
      /onnxruntime cannot load/,
    ],
    ['inputs that differ from the manifest', (d) => editManifest(d, (m) => ((m.inputs as { name: string }[])[0]!.name = 'items')), /model inputs .* differ/],
    ['a missing manifest', (d) => fs.rmSync(path.join(d, 'manifest.json')), /manifest\.json is missing/],
    ['a manifest of another kind', (d) => editManifest(d, (m) => (m.kind = 'behavior')), /kind is "behavior", expected "next-item"/],
    ['a missing item vocabulary', (d) => fs.rmSync(path.join(d, 'items.json')), /items\.json \(items\) is missing/],
  ];

  it.each(cases)('refuses %s', async (_name, corrupt, reason) => {
    const before = await versionsCount();
    const servingBefore = registry.active('next-item')!.id;
    const dir = copyArtifact('next-item');
    editManifest(dir, (m) => (m.version = `${m.version}-bad-${Math.random().toString(36).slice(2, 8)}`));
    corrupt(dir);
    const err = await registry.register('next-item', dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelArtifactError);
    expect((err as ModelArtifactError).code).toBe(ErrorCode.MODEL_ARTIFACT_INVALID);
    expect((err as Error).message).toMatch(reason);
    expect(await versionsCount()).toBe(before);
    expect(registry.active('next-item')!.id).toBe(servingBefore);
    await nextItemStillServes(registry);
  });
});

describe('register, promote, rollback', () => {
  it('registers a verified candidate once per source job, promotes it with a hot swap and rolls back', async () => {
    const baseline = registry.active('next-item')!;
    const dir = copyArtifact('next-item');
    editManifest(dir, (m) => (m.version = `${m.version}-candidate-${Date.now()}`));
    const jobId = `job-${Date.now()}`;
    const candidate = await registry.register('next-item', dir, { sourceJobId: jobId });
    expect(candidate).toMatchObject({ status: 'candidate', sourceJobId: jobId });
    expect(candidate.artifactPath).toMatch(/^postgres:next-item\/.+-candidate-\d+@[0-9a-f]{16}$/); // in the model store
    expect(candidate.metrics).toHaveProperty('hr@10');
    // A retried job gets the same version back, without a second row.
    expect((await registry.register('next-item', dir, { sourceJobId: jobId })).id).toBe(candidate.id);
    expect((await registry.list('next-item')).map((v) => v.id)).toContain(candidate.id);
    expect(registry.active('next-item')!.id).toBe(baseline.id);

    const promoted = await registry.promote(candidate.id);
    expect(promoted).toMatchObject({ id: candidate.id, status: 'active', previousActiveId: baseline.id });
    expect(await nextItemStillServes(registry)).toBe(candidate.version);
    const statuses = (await registry.list('next-item')).filter((v) => [baseline.id, candidate.id].includes(v.id));
    expect(Object.fromEntries(statuses.map((v) => [v.id, v.status]))).toEqual({ [baseline.id]: 'archived', [candidate.id]: 'active' });

    const back = await registry.rollback('next-item');
    expect(back.id).toBe(baseline.id);
    expect(await nextItemStillServes(registry)).toBe(baseline.version);
    expect(registry.metrics().sessionsPerWorker.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2); // old sessions released
  });

  it('answers NOT_FOUND for an unknown version and CONFLICT when there is nothing to roll back to', async () => {
    await expect(registry.promote('999999999')).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await expect(registry.register('recipes', SHIPPED)).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT });
    const active = registry.active('next-item')!;
    if (!active.previousActiveId) await expect(registry.rollback('next-item')).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
  });
});

describe('registerAndPromote (a fine-tuning job: one verification, one load)', () => {
  const pool = () => (registry as unknown as { pool: WorkerPool }).pool;
  const sessions = () => registry.metrics().sessionsPerWorker.reduce((a, b) => a + b, 0);
  const candidateDir = (tag: string) => {
    const dir = copyArtifact('next-item');
    editManifest(dir, (m) => (m.version = `${m.version}-${tag}-${Date.now()}`));
    return dir;
  };
  async function settled(want: number): Promise<void> {
    for (let i = 0; i < 100 && sessions() !== want; i++) await new Promise((r) => setTimeout(r, 20));
  }
  afterEach(() => jest.restoreAllMocks());

  it('keeps the serving version and releases the verified session when the gate declines or throws', async () => {
    const serving = registry.active('next-item')!;
    const before = sessions();
    const declined = await registry.registerAndPromote('next-item', candidateDir('declined'), {
      sourceJobId: `job-declined-${Date.now()}`,
      promoteIf: async (c) => c.status !== 'candidate', // asked once the candidate is recorded
    });
    expect(declined.status).toBe('candidate');
    expect(registry.active('next-item')!.id).toBe(serving.id);
    await settled(before);
    expect(sessions()).toBe(before);

    const jobId = `job-lost-lease-${Date.now()}`;
    await expect(
      registry.registerAndPromote('next-item', candidateDir('thrown'), {
        sourceJobId: jobId,
        promoteIf: () => Promise.reject(new Error('lease lost')),
      }),
    ).rejects.toThrow('lease lost');
    expect((await registry.versionBySourceJob(jobId))?.status).toBe('candidate');
    expect(registry.active('next-item')!.id).toBe(serving.id);
    await settled(before);
    expect(sessions()).toBe(before);
  });

  it('swaps in the session it verified (one ONNX load), and loads again if its worker died while the gate decided', async () => {
    const serving = registry.active('next-item')!;
    const load = jest.spyOn(pool(), 'load');
    const promoted = await registry.registerAndPromote('next-item', candidateDir('promoted'), {
      sourceJobId: `job-promoted-${Date.now()}`,
      promoteIf: async () => true,
    });
    expect(load).toHaveBeenCalledTimes(1); // register + promote loaded it twice
    expect(promoted).toMatchObject({ status: 'active', previousActiveId: serving.id });
    expect(await nextItemStillServes(registry)).toBe(promoted.version);

    load.mockClear();
    const crashed = await registry.registerAndPromote('next-item', candidateDir('crashed'), {
      sourceJobId: `job-crashed-${Date.now()}`,
      promoteIf: async () => {
        const slots = (pool() as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots;
        await Promise.all(slots.map((s) => s.worker.terminate()));
        return true;
      },
    });
    expect(crashed.status).toBe('active');
    expect(load.mock.calls.length).toBeGreaterThanOrEqual(2); // verified, then loaded again after the crash
    expect(await nextItemStillServes(registry)).toBe(crashed.version);
    await registry.promote(serving.id);
  });
});

describe('execution providers', () => {
  it('falls back from CUDA to CPU explicitly and logs it once', async () => {
    const { logger, lines } = capturingLogger();
    const config = servingConfig({ MERIDIAN_EXECUTION_PROVIDERS: 'cuda,cpu', MERIDIAN_LOAD_MODELS: 'false' });
    expect(config.inference.executionProviders).toEqual(['cuda', 'cpu']);
    const r = testRegistry(db.dataSource, config, artifactsDir, logger);
    try {
      await r.start();
      const a = copyArtifact('next-item');
      const b = copyArtifact('behavior');
      await r.register('next-item', a);
      await r.register('behavior', b);
      const fallbacks = lines.filter((l) => /falling back to CPU/.test(l.msg));
      expect(fallbacks).toHaveLength(1);
      expect(fallbacks[0]).toMatchObject({ level: 40, requested: ['cuda', 'cpu'] });
      expect(r.metrics().providers).toEqual(['cpu']);
    } finally {
      await r.stop();
    }
  });

  it('rejects unknown providers in config, naming the variable', () => {
    expect(() => servingConfig({ MERIDIAN_EXECUTION_PROVIDERS: 'tpu' })).toThrow(/MERIDIAN_EXECUTION_PROVIDERS/);
  });
});
