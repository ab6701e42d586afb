/**
 * Users: filtered keyset listing, batch lookups, idempotent upserts by externalId. Lookups by id
 * made in the same event-loop turn share one statement, also across requests (every GraphQL
 * request that names a user reads its row: `user(id) { … }` under load).
 */
import type { DataSource } from 'typeorm';
import { IssueCollector, NotFoundError, ValidationError } from '../common/errors';
import { type BoundingBox, checkBox, checkPoint, type GeoPoint } from '../common/geo';
import { decodeIdCursor, type Page, type PageArgs, pageSize, toPage } from '../common/pagination';
import { TurnBatcher } from '../common/turn-batcher';
import {
  checkRadius, checkTimeRange, type RadiusFilter, type TimeRange,
  whereInTimeRange, whereWithinBox, whereWithinRadius,
} from '../db/query-filters';
import { MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_UPSERT_BATCH } from './catalog.limits';
import { rowsByIds } from './rows-by-id';
import { UserEntity } from './user.entity';

export interface UserFilterData {
  readonly text?: string | null;
  readonly near?: RadiusFilter | null;
  readonly within?: BoundingBox | null;
  readonly createdAt?: TimeRange | null;
}

export interface UserUpsertData {
  readonly externalId: string;
  readonly name?: string | null;
  readonly email?: string | null;
  readonly homeLocation?: GeoPoint | null;
  readonly attributes?: Record<string, unknown> | null;
}

export class UserService {
  private readonly lookups: TurnBatcher<readonly string[], (UserEntity | null)[]>;

  constructor(private readonly ds: DataSource) {
    this.lookups = new TurnBatcher(async (requests) => {
      const rows = await rowsByIds(ds, UserEntity, requests.flat());
      const byId = new Map(rows.flatMap((r) => (r ? [[r.id, r] as const] : [])));
      return requests.map((ids) => ids.map((id) => byId.get(id) ?? null));
    });
  }

  async list(filter: UserFilterData, args: PageArgs): Promise<Page<UserEntity>> {
    const limit = pageSize(args.first);
    const issues = new IssueCollector();
    if (filter.near) checkRadius(filter.near, 'filter.near', issues);
    if (filter.within) checkBox(filter.within, 'filter.within', issues);
    if (filter.createdAt) checkTimeRange(filter.createdAt, 'filter.createdAt', issues);
    if (filter.text != null && filter.text.length > MAX_NAME_LENGTH) issues.add('filter.text', 'is too long');
    issues.throwIfAny();

    const qb = this.ds.getRepository(UserEntity).createQueryBuilder('u');
    if (filter.text?.trim()) {
      qb.andWhere(`(u.name ILIKE :pattern OR u.external_id = :text)`, {
        pattern: `%${escapeLike(filter.text.trim())}%`,
        text: filter.text.trim(),
      });
    }
    if (filter.near) whereWithinRadius(qb, 'u.home_location', filter.near);
    if (filter.within) whereWithinBox(qb, 'u.home_location', filter.within);
    if (filter.createdAt) whereInTimeRange(qb, 'u.created_at', filter.createdAt);
    if (args.after) qb.andWhere('u.id > :afterId', { afterId: decodeIdCursor(args.after) });
    const rows = await qb.orderBy('u.id', 'ASC').limit(limit + 1).getMany();
    return toPage(rows, limit, (r) => [r.id]);
  }

  async get(id: string): Promise<UserEntity> {
    const [row] = await this.byIds([id]);
    if (!row) throw new NotFoundError('User', id);
    return row;
  }

  /** externalId → id for those that exist; one query. */
  async idsByExternalIds(externalIds: readonly string[]): Promise<Map<string, string>> {
    const unique = [...new Set(externalIds)];
    const rows: { id: string; external_id: string }[] = unique.length
      ? await this.ds.query(`SELECT id, external_id FROM users WHERE external_id = ANY($1::text[])`, [unique])
      : [];
    return new Map(rows.map((r) => [r.external_id, r.id]));
  }

  /** Rows in key order; unknown or malformed ids give null. One statement for the lookups of an event-loop turn. */
  byIds(ids: readonly string[]): Promise<(UserEntity | null)[]> {
    return this.lookups.submit(ids);
  }

  async upsert(inputs: readonly UserUpsertData[]): Promise<UserEntity[]> {
    validateUsers(inputs);
    const rows: { id: string }[] = await this.ds.query(
      `INSERT INTO users (external_id, name, email, home_location, attributes)
       SELECT x.external_id, x.name, x.email,
              CASE WHEN x.lat IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(x.lng, x.lat), 4326) END,
              x.attributes
       FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::jsonb[])
         AS x(external_id, name, email, lat, lng, attributes)
       ON CONFLICT (external_id) DO UPDATE SET
         name = EXCLUDED.name, email = EXCLUDED.email, home_location = EXCLUDED.home_location,
         attributes = EXCLUDED.attributes, updated_at = now()
       RETURNING id`,
      [
        inputs.map((u) => u.externalId),
        inputs.map((u) => u.name ?? null),
        inputs.map((u) => u.email ?? null),
        inputs.map((u) => u.homeLocation?.latitude ?? null),
        inputs.map((u) => u.homeLocation?.longitude ?? null),
        inputs.map((u) => JSON.stringify(u.attributes ?? {})),
      ],
    );
    return (await this.byIds(rows.map((r) => r.id))).filter((u): u is UserEntity => u !== null);
  }
}

export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function validateUsers(inputs: readonly UserUpsertData[]): void {
  if (inputs.length === 0) throw ValidationError.of('users', 'must not be empty');
  if (inputs.length > MAX_UPSERT_BATCH) throw ValidationError.of('users', `at most ${MAX_UPSERT_BATCH} per call`);
  const issues = new IssueCollector();
  const seen = new Set<string>();
  inputs.forEach((u, i) => {
    const at = `users[${i}]`;
    if (!u.externalId?.trim() || u.externalId.length > MAX_ID_LENGTH) {
      issues.add(`${at}.externalId`, `must be 1–${MAX_ID_LENGTH} characters`);
    } else if (seen.has(u.externalId)) issues.add(`${at}.externalId`, 'appears twice in this call');
    seen.add(u.externalId);
    if (u.name != null && u.name.length > MAX_NAME_LENGTH) issues.add(`${at}.name`, 'is too long');
    if (u.email != null && (u.email.length > 320 || !/^[^@\s]+@[^@\s]+$/.test(u.email))) {
      issues.add(`${at}.email`, 'is not a valid email address');
    }
    if (u.homeLocation) checkPoint(u.homeLocation, `${at}.homeLocation`, issues);
  });
  issues.throwIfAny();
}
