/**
 * Spatial distribution of one product or category: its total, its share in each region (exact,
 * region rollups or raw events for a product), and where it concentrates — the weighted centroid
 * and the standard distance (root-mean-square distance to the centroid), computed from res-9 cell
 * centres (each point moved by at most a res-9 cell radius, ~0.2 km; see docs/analytics.md).
 */
import { cellToLatLng } from 'h3-js';
import type { DataSource } from 'typeorm';
import { IssueCollector } from '../common/errors';
import { haversineMeters } from '../common/geo';
import { isNumericId } from '../db/query-filters';
import type { AggregateService } from './aggregate.service';
import { metricValue } from './aggregate.service';
import type { AnalyticsAccess, Metric } from './analytics.model';
import { type AggregateQuery, normalizeSelection, renamePaths } from './aggregate.query';
import { intToH3 } from './cells';
import { minUsers } from './privacy';
import { alignSelection } from './publication';
import { rows } from './sql';

export interface DistributionInputData {
  readonly productId?: string | null;
  readonly categoryId?: string | null;
  /** EVENTS, PURCHASES or REVENUE. Defaults to PURCHASES. */
  readonly metric?: Metric | null;
  readonly eventTypes?: AggregateQuery['types'] | null;
  readonly from?: Date | null;
  readonly to?: Date | null;
  /** Shares over regions of this kind (e.g. "city"); all regions when omitted. */
  readonly regionKind?: string | null;
}

export interface RegionShareData {
  readonly regionId: string;
  readonly code: string;
  readonly name: string;
  readonly value: number;
  /** value / total (regions may overlap; shares then add up to more than 1). */
  readonly share: number;
  readonly users: number | null;
}

export interface DistributionData {
  readonly metric: Metric;
  /** Null when suppressed for the caller (fewer than k users behind it). */
  readonly total: number | null;
  readonly users: number | null;
  readonly regions: RegionShareData[];
  /** Weighted centroid of located events; null without located events or when suppressed. */
  readonly centroid: { latitude: number; longitude: number } | null;
  /** Standard distance around the centroid, km. */
  readonly dispersionKm: number | null;
  /** Median distance of the weight from the centroid, km. */
  readonly medianDistanceKm: number | null;
}

const MAX_CELLS = 500_000;

export class DistributionService {
  constructor(
    private readonly ds: DataSource,
    private readonly aggregates: AggregateService,
  ) {}

  async distribution(input: DistributionInputData, access: AnalyticsAccess | null, now = new Date()): Promise<DistributionData> {
    const issues = new IssueCollector();
    if (!!input.productId === !!input.categoryId) issues.add('input', 'give exactly one of productId or categoryId');
    if (input.productId && !isNumericId(input.productId)) issues.add('input.productId', 'is not a valid id');
    if (input.categoryId && !isNumericId(input.categoryId)) issues.add('input.categoryId', 'is not a valid id');
    const metric = input.metric ?? 'PURCHASES';
    if (!['EVENTS', 'PURCHASES', 'REVENUE'].includes(metric)) issues.add('input.metric', 'must be EVENTS, PURCHASES or REVENUE');
    issues.throwIfAny();
    const asked = await normalizeSelection(
      this.ds,
      {
        metric,
        eventTypes: input.eventTypes,
        from: input.from,
        to: input.to,
        filter: input.productId ? { productIds: [input.productId] } : { categoryIds: [input.categoryId!] },
      },
      now,
    ).catch((err: unknown) => {
      throw renamePaths(err, { 'input.filter.productIds[0]': 'input.productId', 'input.filter.categoryIds[0]': 'input.categoryId' });
    });
    const pub = access?.publication ?? null;
    const sel = pub ? alignSelection(asked, 'ALL') : asked;
    const k = minUsers(access);
    const base: AggregateQuery = { ...sel, bucket: 'ALL', grid: { kind: 'none' } };
    const [total] = (await this.aggregates.answer(base, { withUsers: true, publication: pub })).rows;
    const totalValue = total ? (metricValue(base, total) ?? 0) : 0;
    const totalUsers = total?.users ?? 0;

    const regionIds = await rows<{ id: string; code: string; name: string }>(
      this.ds,
      `SELECT id::text AS id, code, name FROM regions WHERE ($1::text IS NULL OR kind = $1) ORDER BY id`,
      [input.regionKind ?? null],
    );
    const shares: RegionShareData[] = [];
    if (regionIds.length) {
      const byRegion = await this.aggregates.answer(
        { ...base, grid: { kind: 'regions', regionKind: input.regionKind ?? null } },
        { withUsers: k !== null, publication: pub },
      );
      const meta = new Map(regionIds.map((r) => [r.id, r]));
      for (const r of byRegion.rows) {
        const m = meta.get(r.cell);
        if (!m || (k !== null && (r.users ?? 0) < k)) continue;
        const value = metricValue(base, r) ?? 0;
        shares.push({ regionId: m.id, code: m.code, name: m.name, value, share: totalValue ? value / totalValue : 0, users: r.users });
      }
      shares.sort((a, b) => b.value - a.value || (a.regionId < b.regionId ? -1 : 1));
    }

    let centroid: DistributionData['centroid'] = null;
    let dispersionKm: number | null = null;
    let medianDistanceKm: number | null = null;
    if (k === null || totalUsers >= k) {
      const cells = await this.aggregates.answer({ ...base, grid: { kind: 'h3', resolution: 9 } }, { withUsers: false, limit: MAX_CELLS, publication: pub });
      const pts = cells.rows
        .map((r) => {
          const [lat, lng] = cellToLatLng(intToH3(r.cell));
          return { latitude: lat, longitude: lng, w: metricValue(base, r) ?? 0 };
        })
        .filter((p) => p.w > 0);
      const c = sphericalMean(pts);
      if (c) {
        centroid = c;
        const d = pts.map((p) => ({ km: haversineMeters(c, p) / 1000, w: p.w }));
        const wsum = d.reduce((a, x) => a + x.w, 0);
        dispersionKm = Math.sqrt(d.reduce((a, x) => a + x.w * x.km * x.km, 0) / wsum);
        medianDistanceKm = weightedMedian(d.map((x) => x.km), d.map((x) => x.w));
      }
    }
    return {
      metric,
      // Below k the total is one small group's activity: suppressed like every other number.
      total: k === null || totalUsers >= k ? totalValue : null,
      users: k === null || totalUsers >= k ? totalUsers : null,
      regions: shares,
      centroid,
      dispersionKm,
      medianDistanceKm,
    };
  }
}

/** Weighted mean direction on the unit sphere, back to latitude/longitude. */
export function sphericalMean(pts: readonly { latitude: number; longitude: number; w: number }[]): { latitude: number; longitude: number } | null {
  let x = 0;
  let y = 0;
  let z = 0;
  let w = 0;
  const rad = Math.PI / 180;
  for (const p of pts) {
    const la = p.latitude * rad;
    const lo = p.longitude * rad;
    x += p.w * Math.cos(la) * Math.cos(lo);
    y += p.w * Math.cos(la) * Math.sin(lo);
    z += p.w * Math.sin(la);
    w += p.w;
  }
  if (w <= 0) return null;
  const h = Math.hypot(x, y);
  return { latitude: Math.atan2(z, h) / rad, longitude: Math.atan2(y, x) / rad };
}

export function weightedMedian(values: readonly number[], weights: readonly number[]): number | null {
  const order = values.map((v, i) => [v, weights[i]!] as const).sort((a, b) => a[0] - b[0]);
  const total = order.reduce((a, [, w]) => a + w, 0);
  if (total <= 0) return null;
  let acc = 0;
  for (const [v, w] of order) {
    acc += w;
    if (acc >= total / 2) return v;
  }
  return order[order.length - 1]![0];
}
