/** Named regions (polygons) used for spatial grouping and filters. */
import type { DataSource, EntityManager } from 'typeorm';
import { IssueCollector, ValidationError } from '../common/errors';
import { RegionEntity } from './region.entity';

export interface RegionUpsertData {
  readonly code: string;
  readonly name: string;
  readonly kind?: string | null;
  /** A GeoJSON Polygon or MultiPolygon. */
  readonly geometry: { readonly type: string; readonly coordinates: unknown };
}

export class RegionService {
  constructor(private readonly ds: DataSource | EntityManager) {}

  async list(kind?: string | null): Promise<RegionEntity[]> {
    return this.ds.getRepository(RegionEntity).find({ where: kind ? { kind } : {}, order: { code: 'ASC' } });
  }

  async byIds(ids: readonly string[]): Promise<(RegionEntity | null)[]> {
    const rows = await this.ds
      .getRepository(RegionEntity)
      .createQueryBuilder('r')
      .where('r.id = ANY(:ids)', { ids: ids.filter((i) => /^\d{1,18}$/.test(i)) })
      .getMany();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((i) => byId.get(i) ?? null);
  }

  /**
   * Inserts or replaces regions by code. Invalid polygons (ST_IsValid) are refused naming the
   * index, unless `repairInvalid` is set: real boundary files often have self-intersecting
   * rings, which ST_MakeValid repairs.
   */
  async upsert(regions: readonly RegionUpsertData[], opts: { repairInvalid?: boolean } = {}): Promise<number> {
    const issues = new IssueCollector();
    regions.forEach((r, i) => {
      if (!r.code?.trim()) issues.add(`regions[${i}].code`, 'must not be empty');
      if (!r.name?.trim()) issues.add(`regions[${i}].name`, 'must not be empty');
      if (r.geometry?.type !== 'Polygon' && r.geometry?.type !== 'MultiPolygon') {
        issues.add(`regions[${i}].geometry`, 'must be a GeoJSON Polygon or MultiPolygon');
      }
    });
    issues.throwIfAny();
    const geoms = regions.map((r) => JSON.stringify(r.geometry));
    const validity = await this.ds.query<{ i: number; valid: boolean | null; reason: string | null }[]>(
      `SELECT i::int, ST_IsValid(g) AS valid, ST_IsValidReason(g) AS reason
       FROM (SELECT ord - 1 AS i, ST_GeomFromGeoJSON(j) AS g FROM unnest($1::text[]) WITH ORDINALITY AS t(j, ord)) s`,
      [geoms],
    ).catch(() => {
      throw ValidationError.of('regions', 'contains a geometry that is not valid GeoJSON');
    });
    if (!opts.repairInvalid) {
      for (const v of validity) if (!v.valid) issues.add(`regions[${v.i}].geometry`, `is not a valid polygon: ${v.reason}`);
    }
    issues.throwIfAny();
    await this.ds.query(
      `INSERT INTO regions (code, name, kind, geom)
       SELECT x.code, x.name, x.kind,
              ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(x.g), 4326)), 3))
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x(code, name, kind, g)
       ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, geom = EXCLUDED.geom`,
      [regions.map((r) => r.code), regions.map((r) => r.name), regions.map((r) => r.kind ?? 'region'), geoms],
    );
    return regions.length;
  }
}
