/**
 * Behavior features: the server (SQL history + TypeScript builder) and the trainer (Python
 * reference, meridian_trainer.behavior_features) give the same numbers on an exported snapshot of
 * the test database, for many users at event times, between events and long after.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../../src/db/database';
import { exportSnapshot } from '../../src/jobs/snapshot.exporter';
import { behaviorFeatures, KNOWN_PROFILE_FEATURES } from '../../src/predict/behavior-features';
import { UserHistoryRepository } from '../../src/predict/user-history.repository';

import { openServingDatabase, ROOT, tempDir } from './serving-helpers';

const PYTHON = path.join(ROOT, 'trainer/.venv/bin/python');
const L = 50;
const SPEC = { maxLen: L, eventTypeIndex: { view: 1, search: 2, cart: 3, purchase: 4, favorite: 5 }, profileFeatures: KNOWN_PROFILE_FEATURES };

// The Python reference needs the trainer's venv (`npm run setup:trainer`); without it there is nothing to compare with.
const describeWithPython = fs.existsSync(PYTHON) ? describe : describe.skip;

let db: Database;
beforeAll(async () => {
  db = await openServingDatabase();
});
afterAll(async () => {
  await db?.close();
});

describeWithPython('behavior feature parity with the trainer', () => {
  it('matches the Python reference on an exported snapshot', async () => {
    const snap = tempDir('snap');
    await exportSnapshot(db.dataSource, snap);
    // Users with many, few and purchase-heavy histories; times at an event, between events and later.
    const users = await db.dataSource.query<{ user_id: string; first: Date; last: Date; mid: Date }[]>(
      `SELECT user_id::text AS user_id, min(occurred_at) AS first, max(occurred_at) AS last,
              (array_agg(occurred_at ORDER BY occurred_at))[greatest(1, count(*)::int / 2)] AS mid
       FROM events GROUP BY user_id ORDER BY count(*) DESC, user_id`,
    );
    const picked = [...users.slice(0, 5), ...users.slice(-5), ...users.filter((_, i) => i % 37 === 5).slice(0, 5)];
    const queries = picked.flatMap((u) => [
      { user_id: u.user_id, now: new Date(u.mid).toISOString() },
      { user_id: u.user_id, now: new Date(new Date(u.mid).getTime() + 5 * 3_600_000 + 123).toISOString() },
      { user_id: u.user_id, now: new Date(new Date(u.last).getTime() + 2 * 86_400_000).toISOString() },
    ]);
    const qfile = path.join(snap, 'queries.json');
    fs.writeFileSync(qfile, JSON.stringify(queries));
    const py = JSON.parse(
      execFileSync(PYTHON, [path.join(__dirname, 'fixtures/behavior_features.py'), snap, qfile, String(L)], { encoding: 'utf8', maxBuffer: 64 << 20 }),
    ) as { types: number[]; ages: number[]; repeats: number[]; profile: number[]; features: string[] }[];
    expect(py).toHaveLength(queries.length);
    expect(py[0]!.features).toEqual(KNOWN_PROFILE_FEATURES);

    const repo = new UserHistoryRepository(db.dataSource);
    let compared = 0;
    let repeated = 0;
    const histories = await Promise.all(queries.map((q) => repo.histories([q.user_id], new Date(q.now), L)));
    for (const [i, q] of queries.entries()) {
      const [h] = histories[i]!;
      const ts = behaviorFeatures(h!.events, h!.createdAt, Date.parse(q.now), SPEC);
      expect(Array.from(ts.eventTypes, Number)).toEqual(py[i]!.types);
      Array.from(ts.eventAges).forEach((v, j) => expect(Math.abs(v - py[i]!.ages[j]!)).toBeLessThan(1e-5));
      Array.from(ts.eventItemRepeats).forEach((v, j) => expect(Math.abs(v - py[i]!.repeats[j]!)).toBeLessThan(1e-6));
      repeated += ts.eventItemRepeats.some((v) => v > 0) ? 1 : 0;
      const diffs = Array.from(ts.profile).map((v, j) => ({ name: KNOWN_PROFILE_FEATURES[j], ts: v, py: py[i]!.profile[j]! }));
      expect(diffs.filter((d) => Math.abs(d.ts - d.py) > 1e-5)).toEqual([]);
      compared++;
    }
    expect(compared).toBe(45);
    expect(repeated).toBeGreaterThan(0); // the demo data revisits products: the comparison is not all zeros
  });
});
