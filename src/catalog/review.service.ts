/** Reviews: listing, per-product batches for loaders, rating summaries, idempotent submission. */
import type { DataSource } from 'typeorm';
import { IssueCollector, ValidationError } from '../common/errors';
import { decodeIdCursor, type Page, type PageArgs, pageSize, toPage } from '../common/pagination';
import { checkTimeRange, existingIds, isNumericId, type TimeRange, whereInTimeRange } from '../db/query-filters';
import { MAX_NAME_LENGTH, MAX_TEXT_LENGTH, MAX_UPSERT_BATCH } from './catalog.limits';
import { ReviewEntity } from './review.entity';
import { escapeLike } from './user.service';

export interface ReviewFilterData {
  readonly productId?: string | null;
  readonly userId?: string | null;
  readonly minRating?: number | null;
  readonly maxRating?: number | null;
  readonly text?: string | null;
  readonly createdAt?: TimeRange | null;
}

export interface ReviewSubmitData {
  readonly userId: string;
  readonly productId: string;
  readonly rating: number;
  readonly title?: string | null;
  readonly body?: string | null;
  readonly createdAt?: Date | null;
}

export interface RatingSummaryData {
  readonly count: number;
  readonly average: number | null;
}

export class ReviewService {
  constructor(private readonly ds: DataSource) {}

  async list(filter: ReviewFilterData, args: PageArgs): Promise<Page<ReviewEntity>> {
    const limit = pageSize(args.first);
    const issues = new IssueCollector();
    if (filter.productId != null && !isNumericId(filter.productId)) issues.add('filter.productId', 'is not a valid id');
    if (filter.userId != null && !isNumericId(filter.userId)) issues.add('filter.userId', 'is not a valid id');
    if (filter.createdAt) checkTimeRange(filter.createdAt, 'filter.createdAt', issues);
    if (filter.text != null && filter.text.length > MAX_NAME_LENGTH) issues.add('filter.text', 'is too long');
    for (const k of ['minRating', 'maxRating'] as const) {
      const v = filter[k];
      if (v != null && (!Number.isInteger(v) || v < 1 || v > 5)) issues.add(`filter.${k}`, 'must be an integer from 1 to 5');
    }
    issues.throwIfAny();

    const qb = this.ds.getRepository(ReviewEntity).createQueryBuilder('r');
    if (filter.productId) qb.andWhere('r.product_id = :pid', { pid: filter.productId });
    if (filter.userId) qb.andWhere('r.user_id = :uid', { uid: filter.userId });
    if (filter.minRating != null) qb.andWhere('r.rating >= :minR', { minR: filter.minRating });
    if (filter.maxRating != null) qb.andWhere('r.rating <= :maxR', { maxR: filter.maxRating });
    if (filter.text?.trim()) qb.andWhere('r.body ILIKE :pat', { pat: `%${escapeLike(filter.text.trim())}%` });
    if (filter.createdAt) whereInTimeRange(qb, 'r.created_at', filter.createdAt);
    if (args.after) qb.andWhere('r.id > :afterId', { afterId: decodeIdCursor(args.after) });
    const rows = await qb.orderBy('r.id', 'ASC').limit(limit + 1).getMany();
    return toPage(rows, limit, (r) => [r.id]);
  }

  /** The newest `limit` reviews of each product, in key order. One query. */
  async recentByProducts(productIds: readonly string[], limit: number): Promise<ReviewEntity[][]> {
    return this.recentBy('product_id', productIds, limit);
  }

  async recentByUsers(userIds: readonly string[], limit: number): Promise<ReviewEntity[][]> {
    return this.recentBy('user_id', userIds, limit);
  }

  private async recentBy(column: 'product_id' | 'user_id', keys: readonly string[], limit: number) {
    const valid = keys.filter(isNumericId);
    const rows: ReviewEntity[] = valid.length
      ? await this.ds
          .getRepository(ReviewEntity)
          .createQueryBuilder('r')
          .where(
            `r.id IN (SELECT x.id FROM unnest(CAST(:keys AS bigint[])) k(v)
               CROSS JOIN LATERAL (SELECT id FROM reviews WHERE ${column} = k.v ORDER BY created_at DESC, id DESC LIMIT :lim) x)`,
            { keys: valid, lim: limit },
          )
          .orderBy('r.created_at', 'DESC')
          .addOrderBy('r.id', 'DESC')
          .getMany()
      : [];
    const prop = column === 'product_id' ? 'productId' : 'userId';
    const grouped = new Map<string, ReviewEntity[]>();
    for (const r of rows) grouped.set(r[prop], [...(grouped.get(r[prop]) ?? []), r]);
    return keys.map((k) => grouped.get(k) ?? []);
  }

  async ratingSummaries(productIds: readonly string[]): Promise<RatingSummaryData[]> {
    const valid = productIds.filter(isNumericId);
    const rows: { product_id: string; n: string; avg: string | null }[] = valid.length
      ? await this.ds.query(
          `SELECT product_id, count(*) AS n, avg(rating) AS avg FROM reviews WHERE product_id = ANY($1::bigint[]) GROUP BY product_id`,
          [valid],
        )
      : [];
    const byId = new Map(rows.map((r) => [r.product_id, r]));
    return productIds.map((id) => {
      const r = byId.get(id);
      return r ? { count: Number(r.n), average: r.avg === null ? null : Number(r.avg) } : { count: 0, average: null };
    });
  }

  /** One review per (user, product): resubmitting replaces it. All or nothing. */
  async submit(inputs: readonly ReviewSubmitData[], now = new Date()): Promise<ReviewEntity[]> {
    await this.validate(inputs, now);
    const rows: { id: string }[] = await this.ds.query(
      `INSERT INTO reviews (user_id, product_id, rating, title, body, created_at)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::text[], $5::text[], $6::timestamptz[])
       ON CONFLICT (user_id, product_id) DO UPDATE SET
         rating = EXCLUDED.rating, title = EXCLUDED.title, body = EXCLUDED.body, created_at = EXCLUDED.created_at
       RETURNING id`,
      [
        inputs.map((r) => r.userId),
        inputs.map((r) => r.productId),
        inputs.map((r) => r.rating),
        inputs.map((r) => r.title ?? null),
        inputs.map((r) => r.body ?? ''),
        inputs.map((r) => (r.createdAt ?? now).toISOString()),
      ],
    );
    const ids = rows.map((r) => r.id);
    const saved = await this.ds.getRepository(ReviewEntity).createQueryBuilder('r').where('r.id = ANY(:ids)', { ids }).getMany();
    const byId = new Map(saved.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id)).filter((r): r is ReviewEntity => r !== undefined);
  }

  private async validate(inputs: readonly ReviewSubmitData[], now: Date): Promise<void> {
    if (inputs.length === 0) throw ValidationError.of('reviews', 'must not be empty');
    if (inputs.length > MAX_UPSERT_BATCH) throw ValidationError.of('reviews', `at most ${MAX_UPSERT_BATCH} per call`);
    const issues = new IssueCollector();
    const pairs = new Set<string>();
    inputs.forEach((r, i) => {
      const at = `reviews[${i}]`;
      if (!isNumericId(r.userId)) issues.add(`${at}.userId`, 'is not a valid id');
      if (!isNumericId(r.productId)) issues.add(`${at}.productId`, 'is not a valid id');
      if (!Number.isInteger(r.rating) || r.rating < 1 || r.rating > 5) issues.add(`${at}.rating`, 'must be an integer from 1 to 5');
      if (r.title != null && r.title.length > MAX_NAME_LENGTH) issues.add(`${at}.title`, 'is too long');
      if (r.body != null && r.body.length > MAX_TEXT_LENGTH) issues.add(`${at}.body`, `must be at most ${MAX_TEXT_LENGTH} characters`);
      if (r.createdAt && r.createdAt.getTime() > now.getTime() + 300_000) issues.add(`${at}.createdAt`, 'is in the future');
      const pair = `${r.userId}:${r.productId}`;
      if (pairs.has(pair)) issues.add(`${at}`, 'the same user and product appear twice in this call');
      pairs.add(pair);
    });
    issues.throwIfAny();
    const [users, products] = await Promise.all([
      existingIds(this.ds, 'users', inputs.map((r) => r.userId)),
      existingIds(this.ds, 'products', inputs.map((r) => r.productId)),
    ]);
    inputs.forEach((r, i) => {
      if (!users.has(r.userId)) issues.add(`reviews[${i}].userId`, `unknown user ${r.userId}`);
      if (!products.has(r.productId)) issues.add(`reviews[${i}].productId`, `unknown product ${r.productId}`);
    });
    issues.throwIfAny();
  }
}
