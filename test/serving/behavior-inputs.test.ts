/**
 * Behavior models with and without the event_item_repeats input: the shipped baseline reads it,
 * a model made before it (fixtures/behavior-before-item-repeats, the previous shipped baseline)
 * does not: both serve, and an upgrade or a rollback between them needs nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../../src/db/database';
import { ModelRegistry } from '../../src/inference/model-registry';
import { BehaviorPredictionService } from '../../src/predict/behavior-prediction.service';

import { capturingLogger, copyArtifact, editManifest, openServingDatabase, servingConfig, tempDir } from './serving-helpers';

const LEGACY = path.join(__dirname, 'fixtures/behavior-before-item-repeats');

let db: Database;
let registry: ModelRegistry;
let service: BehaviorPredictionService;
let userId: string;

beforeAll(async () => {
  db = await openServingDatabase();
  const artifactsDir = tempDir('shipped');
  copyArtifact('behavior', path.join(artifactsDir, 'behavior'));
  registry = new ModelRegistry(db.dataSource, { inference: { ...servingConfig().inference }, artifactsDir }, capturingLogger().logger);
  await registry.start();
  service = new BehaviorPredictionService(db.dataSource, registry);
  // The user whose last 50 events revisit products most: repeats are not all zero.
  const [row] = (await db.dataSource.query(
    `SELECT user_id::text AS id FROM events WHERE product_id IS NOT NULL
     GROUP BY user_id ORDER BY count(*) - count(DISTINCT product_id) DESC, user_id LIMIT 1`,
  )) as { id: string }[];
  userId = row!.id;
});

afterAll(async () => {
  await registry?.stop();
  await db?.close();
});

const inputNames = () => (registry.active('behavior')!.manifest as { inputs: { name: string }[] }).inputs.map((i) => i.name);

describe('behavior model inputs', () => {
  it('feeds the shipped baseline its event_item_repeats input', async () => {
    expect(inputNames()).toContain('event_item_repeats');
    const p = await service.predict(userId);
    expect(p.nextAction.reduce((a, b) => a + b.probability, 0)).toBeCloseTo(1, 9);
    expect(p.modelVersion).toBe(registry.active('behavior')!.version);
  });

  it('serves a model made before the input after a promotion, and switches back', async () => {
    const shipped = registry.active('behavior')!;
    const dir = path.join(tempDir('legacy'), 'behavior');
    fs.cpSync(LEGACY, dir, { recursive: true });
    editManifest(dir, (m) => (m.version = `${m.version}-legacy-${Date.now()}`));
    const legacy = await registry.register('behavior', dir);
    await registry.promote(legacy.id);
    try {
      expect(inputNames()).toEqual(['event_types', 'event_ages', 'profile']);
      const p = await service.predict(userId);
      expect(p.modelVersion).toBe(legacy.version);
      expect(p.nextAction.reduce((a, b) => a + b.probability, 0)).toBeCloseTo(1, 9);
      expect(p.purchaseWithin.every((v, i, a) => i === 0 || v >= a[i - 1]! - 1e-7)).toBe(true);
    } finally {
      await registry.rollback('behavior');
    }
    expect(registry.active('behavior')!.id).toBe(shipped.id);
    expect(inputNames()).toContain('event_item_repeats');
  });
});
