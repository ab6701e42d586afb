/** The fixed demo dataset every test database starts from, and a fingerprint of what shapes it. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { silentLogger } from '../../src/common/logger';
import type { DemoOptions } from '../../src/demo/demo-generator';
import { DEMO_SEED, seedDemo } from '../../src/demo/seed-demo';

/** Deterministic: a fixed anchor, so aggregates in tests never drift with the clock. */
export const TEST_DEMO: DemoOptions = {
  seed: DEMO_SEED,
  events: 20_000,
  anchor: new Date('2026-06-01T00:00:00Z'),
  days: 90,
};

const ROOT = path.resolve(__dirname, '../..');

/** Changes whenever migrations or the demo generator change, so cached templates are rebuilt. */
export function templateFingerprint(): string {
  const h = crypto.createHash('sha256');
  for (const dir of ['migrations', 'src/demo']) {
    for (const f of fs.readdirSync(path.join(ROOT, dir)).sort()) h.update(f).update(fs.readFileSync(path.join(ROOT, dir, f)));
  }
  h.update(JSON.stringify(TEST_DEMO));
  return h.digest('hex').slice(0, 10);
}

export async function migrateAndSeed(ds: DataSource): Promise<void> {
  await ds.runMigrations({ transaction: 'each' });
  await seedDemo(ds, TEST_DEMO, silentLogger());
}
