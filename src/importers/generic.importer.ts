/**
 * CSV import of client data in Meridian's own column layout (see README "Importing data").
 * Rows go through the same services as GraphQL mutations, in their batch sizes.
 */
import type { EventTypeName } from '../events/event.entity';
import type { Services } from '../services';
import { chunks, type CsvRecord, numberOrNull, readAll, ingestAll } from './csv';

export type GenericKind = 'users' | 'products' | 'events' | 'reviews';

function point(r: CsvRecord): { latitude: number; longitude: number } | null {
  const lat = numberOrNull(r.lat);
  const lng = numberOrNull(r.lng);
  return lat === null || lng === null ? null : { latitude: lat, longitude: lng };
}

/** Maps external ids to ids; an unknown one fails the import naming the row, before anything is written. */
async function resolver(lookup: (ext: string[]) => Promise<Map<string, string>>, externalIds: string[], what: string) {
  const map = await lookup(externalIds);
  return (ext: string, row: number): string => {
    const id = map.get(ext);
    if (!id) throw new Error(`row ${row + 2}: unknown ${what} external id "${ext}"`);
    return id;
  };
}

export async function importGeneric(services: Services, kind: GenericKind, file: string): Promise<Record<string, number>> {
  const rows = await readAll(file);
  switch (kind) {
    case 'users': {
      let n = 0;
      for (const part of chunks(rows, 250)) {
        n += (await services.users.upsert(part.map((r) => ({ externalId: r.external_id!, name: r.name || null, email: r.email || null, homeLocation: point(r) })))).length;
      }
      return { users: n };
    }
    case 'products': {
      let n = 0;
      for (const part of chunks(rows, 250)) {
        n += (
          await services.products.upsert(
            part.map((r) => ({
              externalId: r.external_id!, name: r.name!, description: r.description ?? '', price: Number(r.price),
              stock: numberOrNull(r.stock) ?? 0, category: r.category || null, location: point(r),
            })),
          )
        ).length;
      }
      return { products: n };
    }
    case 'events': {
      const user = await resolver((e) => services.users.idsByExternalIds(e), rows.map((r) => r.user_external_id!), 'user');
      const product = await resolver((e) => services.products.idsByExternalIds(e), rows.map((r) => r.product_external_id!).filter(Boolean), 'product');
      const events = rows.map((r, i) => ({
        idempotencyKey: r.idempotency_key!,
        userId: user(r.user_external_id!, i),
        productId: r.product_external_id ? product(r.product_external_id, i) : null,
        type: r.type!.toLowerCase() as EventTypeName,
        occurredAt: new Date(r.occurred_at!),
        location: point(r),
        sessionId: r.session_id || null,
        quantity: numberOrNull(r.quantity),
        price: numberOrNull(r.price),
      }));
      return ingestAll(services, events);
    }
    case 'reviews': {
      const user = await resolver((e) => services.users.idsByExternalIds(e), rows.map((r) => r.user_external_id!), 'user');
      const product = await resolver((e) => services.products.idsByExternalIds(e), rows.map((r) => r.product_external_id!), 'product');
      const reviews = rows.map((r, i) => ({
        userId: user(r.user_external_id!, i),
        productId: product(r.product_external_id!, i),
        rating: Number(r.rating),
        title: r.title || null,
        body: r.body ?? '',
        createdAt: r.created_at ? new Date(r.created_at) : null,
      }));
      let n = 0;
      for (const part of chunks(reviews, 250)) n += (await services.reviews.submit(part)).length;
      return { reviews: n };
    }
  }
}
