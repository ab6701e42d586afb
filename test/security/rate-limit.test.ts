import { RateLimiter } from '../../src/security/rate-limiter';
import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { gql, startTestApp } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { bearer, createKey } from '../helpers/keys';

describe('RateLimiter', () => {
  it('spends a per-minute cost budget and refills it continuously', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const limits = { costPerMinute: 600, concurrency: 2 };
    expect(limiter.spend('k', 500, limits)).toEqual({ ok: true });
    const denied = limiter.spend('k', 200, limits);
    expect(denied.ok).toBe(false);
    if (!denied.ok) expect(denied.retryAfterSeconds).toBe(10); // 100 missing at 10/s
    now += 10_000;
    expect(limiter.spend('k', 200, limits)).toEqual({ ok: true });
    expect(limiter.spend('other', 600, limits)).toEqual({ ok: true });
  });

  it('caps concurrent requests per key and frees the slot on release', () => {
    const limiter = new RateLimiter(() => 0);
    const limits = { costPerMinute: 100, concurrency: 1 };
    const a = limiter.enter('k', limits);
    expect(a.admission.ok).toBe(true);
    expect(limiter.enter('k', limits).admission.ok).toBe(false);
    a.release();
    a.release(); // idempotent
    expect(limiter.enter('k', limits).admission.ok).toBe(true);
  });
});

describe('rate limits over HTTP', () => {
  let db: Database;
  let app: App;
  beforeAll(async () => {
    db = await openTestDatabase();
    app = await startTestApp(db, { RATE_LIMIT_FRONTEND_COST: '600', PARTNER_ALLOWLIST_ONLY: 'false' });
  });
  afterAll(async () => {
    await app.stop();
    await db.close();
  });

  it('answers 429 with Retry-After past the budget, and recovers after the window', async () => {
    const key = bearer(await createKey(app, 'FRONTEND'));
    const q = '{ products(first: 50) { edges { node { name } } } }'; // cost ≈ 151
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', ...key }, body: JSON.stringify({ query: q }) });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
        expect(body.errors[0]!.extensions.code).toBe('RATE_LIMITED');
      } else await res.text();
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, Number(retryAfter) * 1000 + 200));
    const again = await gql(app, q, {}, key);
    expect(again.status).toBe(200);
  }, 120_000);
});
