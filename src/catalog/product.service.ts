/**
 * Products and categories: filtered keyset listing, batch lookups, idempotent upserts. The serving
 * path (recommendations, similar items, trending) reads through caches held for at most the
 * serving cache TTL: prices and stock may lag by that much there (a user's own data is never
 * cached); every other read is fresh.
 */
import type { DataSource } from 'typeorm';
import { IssueCollector, NotFoundError, ValidationError } from '../common/errors';
import { type BoundingBox, checkBox, checkPoint, type GeoPoint } from '../common/geo';
import { decodeIdCursor, type Page, type PageArgs, pageSize, toPage } from '../common/pagination';
import { TtlCache } from '../common/ttl-cache';
import {
  checkIds, checkRadius, checkTimeRange, isNumericId, type RadiusFilter, type TimeRange,
  whereInTimeRange, whereWithinBox, whereWithinRadius,
} from '../db/query-filters';
import { CategoryEntity } from './category.entity';
import { MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_TEXT_LENGTH, MAX_UPSERT_BATCH } from './catalog.limits';
import { ProductEntity } from './product.entity';
import { rowsByIds } from './rows-by-id';

export interface ProductFilterData {
  readonly categoryIds?: readonly string[] | null;
  readonly categoryNames?: readonly string[] | null;
  readonly price?: { readonly min?: number | null; readonly max?: number | null } | null;
  readonly text?: string | null;
  readonly near?: RadiusFilter | null;
  readonly within?: BoundingBox | null;
  readonly createdAt?: TimeRange | null;
  readonly inStock?: boolean | null;
}

export interface ProductUpsertData {
  readonly externalId: string;
  readonly name: string;
  readonly description?: string | null;
  readonly price: number;
  readonly stock?: number | null;
  readonly category?: string | null;
  readonly location?: GeoPoint | null;
  readonly attributes?: Record<string, unknown> | null;
}

/** Categories change rarely: the serving path's list is cached for at least this long, ms. */
const MIN_CATEGORY_TTL_MS = 1000;

export class ProductService {
  private readonly servingCache: TtlCache<string, ProductEntity | null>;
  private readonly categoryCache: TtlCache<'all', CategoryEntity[]>;

  constructor(
    private readonly ds: DataSource,
    servingCacheTtlMs: number,
  ) {
    this.servingCache = new TtlCache(servingCacheTtlMs, 50_000);
    this.categoryCache = new TtlCache(Math.max(servingCacheTtlMs, MIN_CATEGORY_TTL_MS), 1);
  }

  async list(filter: ProductFilterData, args: PageArgs): Promise<Page<ProductEntity>> {
    const limit = pageSize(args.first);
    const issues = new IssueCollector();
    if (filter.categoryIds) checkIds(filter.categoryIds, 'filter.categoryIds', issues);
    if (filter.near) checkRadius(filter.near, 'filter.near', issues);
    if (filter.within) checkBox(filter.within, 'filter.within', issues);
    if (filter.createdAt) checkTimeRange(filter.createdAt, 'filter.createdAt', issues);
    const { min, max } = filter.price ?? {};
    if (min != null && max != null && min > max) issues.add('filter.price.min', 'must not exceed max');
    if (filter.text != null && filter.text.length > MAX_NAME_LENGTH) {
      issues.add('filter.text', `must be at most ${MAX_NAME_LENGTH} characters`);
    }
    issues.throwIfAny();

    const qb = this.ds.getRepository(ProductEntity).createQueryBuilder('p');
    if (filter.categoryIds?.length) qb.andWhere('p.category_id = ANY(:catIds)', { catIds: filter.categoryIds });
    if (filter.categoryNames?.length) {
      qb.andWhere('p.category_id IN (SELECT id FROM categories WHERE name = ANY(:catNames))', {
        catNames: filter.categoryNames,
      });
    }
    if (min != null) qb.andWhere('p.price >= :minPrice', { minPrice: min });
    if (max != null) qb.andWhere('p.price <= :maxPrice', { maxPrice: max });
    if (filter.text?.trim()) {
      qb.andWhere(`to_tsvector('simple', p.name || ' ' || p.description) @@ plainto_tsquery('simple', :text)`, {
        text: filter.text,
      });
    }
    if (filter.near) whereWithinRadius(qb, 'p.seller_location', filter.near);
    if (filter.within) whereWithinBox(qb, 'p.seller_location', filter.within);
    if (filter.createdAt) whereInTimeRange(qb, 'p.created_at', filter.createdAt);
    if (filter.inStock) qb.andWhere('p.stock > 0');
    if (args.after) qb.andWhere('p.id > :afterId', { afterId: decodeIdCursor(args.after) });
    const rows = await qb.orderBy('p.id', 'ASC').limit(limit + 1).getMany();
    return toPage(rows, limit, (r) => [r.id]);
  }

  async get(id: string): Promise<ProductEntity> {
    const [row] = await this.byIds([id]);
    if (!row) throw new NotFoundError('Product', id);
    return row;
  }

  /** externalId → id for those that exist; one query. */
  async idsByExternalIds(externalIds: readonly string[]): Promise<Map<string, string>> {
    const unique = [...new Set(externalIds)];
    const rows: { id: string; external_id: string }[] = unique.length
      ? await this.ds.query(`SELECT id, external_id FROM products WHERE external_id = ANY($1::text[])`, [unique])
      : [];
    return new Map(rows.map((r) => [r.external_id, r.id]));
  }

  /** Rows in key order; unknown or malformed ids give null. One query. */
  byIds(ids: readonly string[]): Promise<(ProductEntity | null)[]> {
    return rowsByIds(this.ds, ProductEntity, ids);
  }

  /** byIds for the serving path: rows cached for at most the serving cache TTL (refreshed ahead). */
  async cachedByIds(ids: readonly string[]): Promise<(ProductEntity | null)[]> {
    const valid = ids.filter(isNumericId);
    const values = valid.length ? await this.servingCache.getMany(valid, (missing) => this.byIds(missing)) : [];
    const byId = new Map(valid.map((id, i) => [id, values[i]!]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Every category, cached like cachedByIds (at least a second): for the serving path's filters. */
  cachedCategories(): Promise<CategoryEntity[]> {
    return this.categoryCache.getOrLoad('all', () => this.categories());
  }

  categoriesByIds(ids: readonly string[]): Promise<(CategoryEntity | null)[]> {
    return rowsByIds(this.ds, CategoryEntity, ids);
  }

  async categories(): Promise<CategoryEntity[]> {
    return this.ds.getRepository(CategoryEntity).find({ order: { name: 'ASC' } });
  }

  /** Inserts or updates products by externalId, creating categories by name. All or nothing. */
  async upsert(inputs: readonly ProductUpsertData[]): Promise<ProductEntity[]> {
    validateProducts(inputs);
    const ids = await this.ds.transaction(async (em) => {
      const names = [...new Set(inputs.map((p) => p.category).filter((c): c is string => !!c))];
      const catIds = new Map<string, string>();
      if (names.length) {
        await em.query(`INSERT INTO categories (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING`, [names]);
        const rows: { id: string; name: string }[] = await em.query(
          `SELECT id, name FROM categories WHERE name = ANY($1::text[])`,
          [names],
        );
        rows.forEach((r) => catIds.set(r.name, r.id));
      }
      const rows: { id: string }[] = await em.query(
        `INSERT INTO products (external_id, name, description, price, stock, category_id, seller_location, attributes)
         SELECT x.external_id, x.name, x.description, x.price, x.stock, x.category_id,
                CASE WHEN x.lat IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(x.lng, x.lat), 4326) END,
                x.attributes
         FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::int[], $6::bigint[],
                     $7::float8[], $8::float8[], $9::jsonb[])
           AS x(external_id, name, description, price, stock, category_id, lat, lng, attributes)
         ON CONFLICT (external_id) DO UPDATE SET
           name = EXCLUDED.name, description = EXCLUDED.description, price = EXCLUDED.price,
           stock = EXCLUDED.stock, category_id = EXCLUDED.category_id,
           seller_location = EXCLUDED.seller_location, attributes = EXCLUDED.attributes, updated_at = now()
         RETURNING id`,
        [
          inputs.map((p) => p.externalId),
          inputs.map((p) => p.name),
          inputs.map((p) => p.description ?? ''),
          inputs.map((p) => p.price),
          inputs.map((p) => p.stock ?? 0),
          inputs.map((p) => (p.category ? catIds.get(p.category) : null) ?? null),
          inputs.map((p) => p.location?.latitude ?? null),
          inputs.map((p) => p.location?.longitude ?? null),
          inputs.map((p) => JSON.stringify(p.attributes ?? {})),
        ],
      );
      return rows.map((r) => r.id);
    });
    return (await this.byIds(ids)).filter((p): p is ProductEntity => p !== null);
  }
}

function validateProducts(inputs: readonly ProductUpsertData[]): void {
  if (inputs.length === 0) throw ValidationError.of('products', 'must not be empty');
  if (inputs.length > MAX_UPSERT_BATCH) throw ValidationError.of('products', `at most ${MAX_UPSERT_BATCH} per call`);
  const issues = new IssueCollector();
  const seen = new Set<string>();
  inputs.forEach((p, i) => {
    const at = `products[${i}]`;
    if (!p.externalId?.trim() || p.externalId.length > MAX_ID_LENGTH) {
      issues.add(`${at}.externalId`, `must be 1–${MAX_ID_LENGTH} characters`);
    } else if (seen.has(p.externalId)) issues.add(`${at}.externalId`, 'appears twice in this call');
    seen.add(p.externalId);
    if (!p.name?.trim() || p.name.length > MAX_NAME_LENGTH) issues.add(`${at}.name`, `must be 1–${MAX_NAME_LENGTH} characters`);
    if ((p.description ?? '').length > MAX_TEXT_LENGTH) issues.add(`${at}.description`, 'is too long');
    if (!Number.isFinite(p.price) || p.price < 0 || p.price >= 1e10) issues.add(`${at}.price`, 'must be ≥ 0 and < 1e10');
    if (p.stock != null && (!Number.isInteger(p.stock) || p.stock < 0)) issues.add(`${at}.stock`, 'must be an integer ≥ 0');
    if (p.category != null && (!p.category.trim() || p.category.length > MAX_NAME_LENGTH)) {
      issues.add(`${at}.category`, `must be 1–${MAX_NAME_LENGTH} characters`);
    }
    if (p.location) checkPoint(p.location, `${at}.location`, issues);
  });
  issues.throwIfAny();
}
