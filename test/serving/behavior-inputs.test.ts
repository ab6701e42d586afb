/**
 * Behavior models with and without the event_item_repeats input. The shipped baseline was made
 * before that input; fixtures/behavior-with-item-repeats is the same recipe retrained with it
 * (not shipped: it did not clear the promotion margin, model-artifacts/README.md). Both serve
 * through the service, and the service's tensors are exactly the feature builder's.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../../src/db/database';
import type { ModelRegistry } from '../../src/inference/model-registry';
import { float32, int64 } from '../../src/inference/tensor';
import { behaviorFeatures } from '../../src/predict/behavior-features';
import { BehaviorPredictionService } from '../../src/predict/behavior-prediction.service';
import { UserHistoryRepository } from '../../src/predict/user-history.repository';

import { editManifest, openServingDatabase, startRegistry, tempDir } from './serving-helpers';

const WITH_REPEATS = path.join(__dirname, 'fixtures/behavior-with-item-repeats');

let db: Database;
let registry: ModelRegistry;
let service: BehaviorPredictionService;
let userId: string;
let now: Date;

beforeAll(async () => {
  db = await openServingDatabase();
  ({ registry } = await startRegistry(db, 'behavior'));
  service = new BehaviorPredictionService(db.dataSource, registry);
  // The user who revisits products most, asked right after their last event.
  const [row] = await db.dataSource.query<{ id: string; last: Date }[]>(
    `SELECT user_id::text AS id, max(occurred_at) AS last FROM events WHERE product_id IS NOT NULL
     GROUP BY user_id ORDER BY count(*) - count(DISTINCT product_id) DESC, user_id LIMIT 1`,
  );
  userId = row!.id;
  now = new Date(new Date(row!.last).getTime() + 60_000);
});

afterAll(async () => {
  await registry?.stop();
  await db?.close();
});

const inputNames = () => (registry.active('behavior')!.manifest as { inputs: { name: string }[] }).inputs.map((i) => i.name);

/** next_action of the active model on this user's features, with the repeats as built or zeroed. */
async function directRun(zeroRepeats: boolean): Promise<number[]> {
  return registry.use('behavior', async (model) => {
    const m = model.manifest;
    const [h] = await new UserHistoryRepository(db.dataSource).histories([userId], now, m.maxLen);
    const f = behaviorFeatures(h!.events, h!.createdAt, now.getTime(), m);
    expect(f.eventItemRepeats.some((v) => v > 0)).toBe(true); // this user's window revisits products
    const L = m.maxLen;
    const out = await model.run({
      event_types: int64(f.eventTypes, [1, L]),
      event_ages: float32(f.eventAges, [1, L]),
      event_item_repeats: float32(zeroRepeats ? new Float32Array(L) : f.eventItemRepeats, [1, L]),
      profile: float32(f.profile, [1, m.profileFeatures.length]),
    });
    const raw = Array.from(out.next_action!.data as Float32Array, Number);
    const total = raw.reduce((a, b) => a + b, 0);
    return raw.map((v) => v / total);
  });
}

describe('behavior model inputs', () => {
  it('serves the shipped baseline, which has no event_item_repeats input', async () => {
    expect(inputNames()).toEqual(['event_types', 'event_ages', 'profile']);
    const p = await service.predict(userId, now);
    expect(p.nextAction.reduce((a, b) => a + b.probability, 0)).toBeCloseTo(1, 9);
    expect(p.modelVersion).toBe(registry.active('behavior')!.version);
  });

  it('feeds a model with the input the builder’s repeats, and switches back on rollback', async () => {
    const shipped = registry.active('behavior')!;
    const dir = path.join(tempDir('repeats'), 'behavior');
    fs.cpSync(WITH_REPEATS, dir, { recursive: true });
    editManifest(dir, (m) => (m.version = `${m.version}-test-${Date.now()}`));
    const candidate = await registry.register('behavior', dir);
    await registry.promote(candidate.id);
    try {
      expect(inputNames()).toEqual(['event_types', 'event_ages', 'event_item_repeats', 'profile']);
      const p = await service.predict(userId, now);
      expect(p.modelVersion).toBe(candidate.version);
      const served = p.nextAction.map((a) => a.probability);
      const withRepeats = await directRun(false);
      const zeroed = await directRun(true);
      served.forEach((v, i) => expect(v).toBeCloseTo(withRepeats[i]!, 6));
      // the input matters to this model, so the equality above says the service fed the real repeats
      expect(Math.max(...served.map((v, i) => Math.abs(v - zeroed[i]!)))).toBeGreaterThan(1e-4);
    } finally {
      await registry.rollback('behavior');
    }
    expect(registry.active('behavior')!.id).toBe(shipped.id);
    expect(inputNames()).toEqual(['event_types', 'event_ages', 'profile']);
  });
});
