/**
 * Imports the Taobao UserBehavior head (user_id,item_id,category_id,behavior,unix_ts; no header,
 * no location, no prices) through the public services: pv → VIEW, cart → CART, fav → FAVORITE,
 * buy → PURCHASE. Idempotency keys are derived from the row, so re-importing adds nothing.
 */
import type { Logger } from '../common/logger';
import type { EventTypeName } from '../events/event.entity';
import type { EventInputData } from '../events/event.service';
import type { Services } from '../services';
import { chunks, readAll, ingestAll } from './csv';

const BEHAVIOR: Record<string, EventTypeName> = { pv: 'view', cart: 'cart', fav: 'favorite', buy: 'purchase' };

export async function importTaobao(services: Services, file: string, logger: Logger): Promise<{ users: number; products: number; accepted: number; duplicates: number; skipped: number }> {
  const rows = await readAll(file, ['user', 'item', 'category', 'behavior', 'ts']);
  const valid = rows.filter((r) => BEHAVIOR[r.behavior!] && Number.isFinite(Number(r.ts)));
  const userIds = new Map<string, string>();
  for (const part of chunks([...new Set(valid.map((r) => r.user!))], 250)) {
    const saved = await services.users.upsert(part.map((u) => ({ externalId: `taobao:u:${u}`, attributes: { source: 'taobao' } })));
    saved.forEach((u) => userIds.set(u.externalId!, u.id));
  }
  const itemCategory = new Map(valid.map((r) => [r.item!, r.category!]));
  const productIds = new Map<string, string>();
  for (const part of chunks([...itemCategory.entries()], 250)) {
    const saved = await services.products.upsert(
      part.map(([item, cat]) => ({
        externalId: `taobao:i:${item}`,
        name: `Taobao item ${item}`,
        price: 0, // the dataset has no prices
        category: `taobao:${cat}`,
        attributes: { source: 'taobao' },
      })),
    );
    saved.forEach((p) => productIds.set(p.externalId!, p.id));
  }
  const events: EventInputData[] = valid.map((r) => ({
    idempotencyKey: `taobao:${r.user}:${r.item}:${r.behavior}:${r.ts}`,
    userId: userIds.get(`taobao:u:${r.user}`)!,
    productId: productIds.get(`taobao:i:${r.item}`)!,
    type: BEHAVIOR[r.behavior!]!,
    occurredAt: new Date(Number(r.ts) * 1000),
  }));
  const { accepted, duplicates } = await ingestAll(services, events);
  const result = { users: userIds.size, products: productIds.size, accepted, duplicates, skipped: rows.length - valid.length };
  logger.info(result, 'taobao imported');
  return result;
}
