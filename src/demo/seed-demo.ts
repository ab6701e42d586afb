/**
 * Writes the demo dataset. At start, an empty database is seeded in one transaction (a crash
 * mid-seed leaves it empty, and the next start seeds again). `npm run seed` calls seedDemo
 * directly for large benchmark datasets, committing chunk by chunk.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../common/logger';
import { DEMO_POLICY_ANSWERS } from './demo-policies';
import { insertEventsOnly } from '../events/event.writer';
import { rebuildRollups, vacuumRollups } from '../analytics/rollup-rebuild';
import { RegionService } from '../catalog/region.service';
import type { Services } from '../services';
import { CATEGORIES, CITIES } from './demo-world';
import {
  cityRegion, type DemoOptions, type DemoWorld, generateActivity, generateWorld, startOfUtcDay,
} from './demo-generator';

export const DEMO_SEED = 20_261_129;

export function defaultDemoOptions(events: number, anchor = startOfUtcDay(new Date())): DemoOptions {
  return { seed: DEMO_SEED, events, anchor, days: 90 };
}

export async function seedDemoIfEmpty(
  ds: DataSource,
  _services: Services,
  opts: { events: number },
  logger: Logger,
): Promise<boolean> {
  const [{ n }] = await ds.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM users`);
  if (n > 0) return false;
  const started = Date.now();
  const counts = await ds.transaction((em) => seedDemo(em, defaultDemoOptions(opts.events), logger));
  await vacuumRollups(ds);
  logger.info({ ...counts, ms: Date.now() - started }, 'demo dataset seeded');
  return true;
}

export interface SeedCounts {
  users: number;
  products: number;
  events: number;
  reviews: number;
}

/** Writes the whole demo dataset through `db` (a transaction's manager or a data source). */
export async function seedDemo(db: EntityManager | DataSource, opts: DemoOptions, logger: Logger): Promise<SeedCounts> {
  const world = generateWorld(opts);
  const { userIds, productIds } = await writeWorld(db, world);
  await new RegionService(db).upsert(
    CITIES.map((c) => ({ code: `city:${c.code}`, name: c.name, kind: 'city', geometry: cityRegion(c) })),
  );
  let events = 0;
  let reviews = 0;
  let buffer: Parameters<typeof insertEventsOnly>[1][number][] = [];
  const flush = async () => {
    await insertEventsOnly(db, buffer);
    events += buffer.length;
    buffer = [];
    if (events % 500_000 < 5_000) logger.info({ events }, 'seeding events');
  };
  for (const chunk of generateActivity(world, opts)) {
    for (const e of chunk.events) {
      buffer.push({
        idempotencyKey: e.key,
        userId: userIds[e.user]!,
        productId: e.product === null ? null : productIds[e.product]!,
        type: e.type,
        occurredAt: new Date(e.at),
        latitude: e.latitude,
        longitude: e.longitude,
        sessionId: e.session,
        quantity: e.quantity,
        price: e.price,
        query: e.query,
      });
    }
    if (chunk.reviews.length) {
      await db.query(
        `INSERT INTO reviews (user_id, product_id, rating, body, created_at)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::text[], $5::timestamptz[])
         ON CONFLICT (user_id, product_id) DO NOTHING`,
        [
          chunk.reviews.map((r) => userIds[r.user]),
          chunk.reviews.map((r) => productIds[r.product]),
          chunk.reviews.map((r) => r.rating),
          chunk.reviews.map((r) => r.body),
          chunk.reviews.map((r) => r.createdAt.toISOString()),
        ],
      );
      reviews += chunk.reviews.length;
    }
    if (buffer.length >= 5_000) await flush();
  }
  if (buffer.length) await flush();
  await db.query(
    `INSERT INTO policy_answers (key, question, answer, intent) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
     ON CONFLICT (key) DO NOTHING`,
    [DEMO_POLICY_ANSWERS.map((p) => p.key), DEMO_POLICY_ANSWERS.map((p) => p.question), DEMO_POLICY_ANSWERS.map((p) => p.answer), DEMO_POLICY_ANSWERS.map((p) => p.intent)],
  );
  const rebuilt = Date.now();
  await rebuildRollups(db);
  logger.info({ events, ms: Date.now() - rebuilt }, 'analytics rollups rebuilt');
  await db.query('ANALYZE');
  return { users: world.users.length, products: world.products.length, events, reviews };
}

async function writeWorld(
  db: EntityManager | DataSource,
  world: DemoWorld,
): Promise<{ userIds: string[]; productIds: string[] }> {
  await db.query(`INSERT INTO categories (name, external_id) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (name) DO NOTHING`, [
    CATEGORIES.map((c) => c.name),
    CATEGORIES.map((c) => c.code),
  ]);
  const cats = await db.query<{ id: string; name: string }[]>(`SELECT id, name FROM categories`);
  const catId = new Map(cats.map((c) => [c.name, c.id]));

  const productIds: string[] = [];
  for (let i = 0; i < world.products.length; i += 5_000) {
    const part = world.products.slice(i, i + 5_000);
    const rows = await db.query<{ id: string; external_id: string }[]>(
      `INSERT INTO products (external_id, name, description, price, stock, category_id, seller_location, attributes)
       SELECT x.e, x.n, x.d, x.p, x.s, x.c, ST_SetSRID(ST_MakePoint(x.lng, x.lat), 4326), x.a
       FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::int[], $6::bigint[], $7::float8[], $8::float8[], $9::jsonb[])
         AS x(e, n, d, p, s, c, lat, lng, a)
       ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name
       RETURNING id, external_id`,
      [
        part.map((p) => p.externalId),
        part.map((p) => p.name),
        part.map((p) => p.description),
        part.map((p) => p.price),
        part.map((p) => p.stock),
        part.map((p) => catId.get(CATEGORIES[p.category]!.name)),
        part.map((p) => p.latitude),
        part.map((p) => p.longitude),
        part.map((p) => JSON.stringify({ city: CITIES[p.city]!.code })),
      ],
    );
    const byExt = new Map(rows.map((r) => [r.external_id, r.id]));
    part.forEach((p) => productIds.push(byExt.get(p.externalId)!));
  }

  const userIds: string[] = [];
  for (let i = 0; i < world.users.length; i += 5_000) {
    const part = world.users.slice(i, i + 5_000);
    const rows = await db.query<{ id: string; external_id: string }[]>(
      `INSERT INTO users (external_id, name, email, home_location, attributes, created_at)
       SELECT x.e, x.n, x.m, ST_SetSRID(ST_MakePoint(x.lng, x.lat), 4326), x.a, x.c
       FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::jsonb[], $7::timestamptz[])
         AS x(e, n, m, lat, lng, a, c)
       ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name
       RETURNING id, external_id`,
      [
        part.map((u) => u.externalId),
        part.map((u) => u.name),
        part.map((u) => u.email),
        part.map((u) => u.latitude),
        part.map((u) => u.longitude),
        part.map((u) => JSON.stringify({ city: CITIES[u.city]!.code })),
        part.map((u) => u.createdAt.toISOString()),
      ],
    );
    const byExt = new Map(rows.map((r) => [r.external_id, r.id]));
    part.forEach((u) => userIds.push(byExt.get(u.externalId)!));
  }
  return { userIds, productIds };
}

/** Empties every application table (not the migrations log, not PostGIS's spatial_ref_sys). */
export async function emptyAllTables(db: EntityManager | DataSource): Promise<string[]> {
  const rows = await db.query<{ tablename: string }[]>(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('migrations', 'spatial_ref_sys')`,
  );
  const tables = rows.map((r) => `"${r.tablename}"`);
  if (tables.length) await db.query(`TRUNCATE ${tables.join(', ')} RESTART IDENTITY CASCADE`);
  return rows.map((r) => r.tablename);
}
