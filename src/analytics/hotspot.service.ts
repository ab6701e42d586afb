/**
 * Hot spots: Getis-Ord Gi* over an H3 grid (hotspots.ts), spatial or space-time. Values per cell
 * come from the aggregate engine (rollups); the study area is every cell with data plus its
 * neighbours up to `ringSize` rings (observed zeros), limited to the query area when one is given.
 * Space-time neighbourhoods add the same rings in the previous and next time bucket.
 */
import { cellToLatLng, gridDisk } from 'h3-js';
import type { DataSource } from 'typeorm';
import { IssueCollector, ValidationError } from '../common/errors';
import type { AggregateService } from './aggregate.service';
import { metricValue } from './aggregate.service';
import type { AnalyticsAccess, SelectionData } from './analytics.model';
import { type Area, type AggregateQuery, checkBucketCount, normalizeSelection } from './aggregate.query';
import { geoAreaSql } from './area';
import { type Bucket, BUCKETS, bucketStarts } from './buckets';
import { cellPolygon, h3ToInt, intToH3, MIN_RESOLUTION, ROLLUP_RESOLUTION } from './cells';
import { benjaminiHochberg, giStarIndexedSliced } from './hotspots';
import { timeSlicer } from '../common/time-slicer';
import { minUsers } from './privacy';
import { alignSelection } from './publication';
import { rows, Sql } from './sql';

export type HotspotClass = 'HOT' | 'COLD' | 'NOT_SIGNIFICANT';

export interface HotspotInputData extends SelectionData {
  /** 3–9; chosen to fit the area when omitted. */
  readonly h3Resolution?: number | null;
  /** Neighbourhood radius in H3 rings, 1–3. Defaults to 1. */
  readonly ringSize?: number | null;
  /** Space-time hot spots per bucket when given; one spatial map otherwise. */
  readonly bucket?: Bucket | null;
  /** False discovery rate for HOT/COLD (Benjamini–Hochberg). Defaults to 0.05. */
  readonly alpha?: number | null;
  /** Return only HOT and COLD cells. Defaults to true. */
  readonly onlySignificant?: boolean | null;
}

export interface HotspotData {
  readonly cellId: string;
  readonly bucketStart: Date | null;
  readonly value: number;
  /** Sum of values over the cell's neighbourhood (itself included). */
  /** Null when suppressed for the caller (its hidden part rests on fewer than k users). */
  readonly neighbourhoodValue: number | null;
  readonly zScore: number;
  readonly pValue: number;
  readonly classification: HotspotClass;
  /** GeoJSON, or null. */
  readonly geometry: unknown;
}

/** Largest study area (cells × buckets) Gi* is computed over. */
const MAX_STUDY = 200_000;

/**
 * H3 topology never changes, and h3-js calls cost ~10 µs each: neighbourhoods and centres of
 * cells seen before are kept (bounded; cleared when full).
 */
const topology = { disks: new Map<string, string[]>(), centres: new Map<string, [number, number]>(), limit: 500_000 };

function cachedDisk(cell: string, ring: number): string[] {
  const key = ring === 1 ? cell : `${cell}/${ring}`;
  let d = topology.disks.get(key);
  if (!d) {
    if (topology.disks.size >= topology.limit) topology.disks.clear();
    topology.disks.set(key, (d = gridDisk(cell, ring)));
  }
  return d;
}

function cachedCentre(cell: string): [number, number] {
  let c = topology.centres.get(cell);
  if (!c) {
    if (topology.centres.size >= topology.limit) topology.centres.clear();
    topology.centres.set(cell, (c = cellToLatLng(cell)));
  }
  return c;
}

export class HotspotService {
  constructor(
    private readonly ds: DataSource,
    private readonly aggregates: AggregateService,
  ) {}

  async hotspots(
    input: HotspotInputData,
    access: AnalyticsAccess | null,
    opts: { withGeometry?: boolean } = {},
    now = new Date(),
  ): Promise<HotspotData[]> {
    const issues = new IssueCollector();
    const res = input.h3Resolution;
    if (res != null && (!Number.isInteger(res) || res < MIN_RESOLUTION || res > ROLLUP_RESOLUTION)) {
      issues.add('input.h3Resolution', `must be an integer from ${MIN_RESOLUTION} to ${ROLLUP_RESOLUTION}`);
    }
    const ring = input.ringSize ?? 1;
    if (!Number.isInteger(ring) || ring < 1 || ring > 3) issues.add('input.ringSize', 'must be 1, 2 or 3');
    const alpha = input.alpha ?? 0.05;
    if (!Number.isFinite(alpha) || alpha <= 0 || alpha >= 1) issues.add('input.alpha', 'must be between 0 and 1');
    if (input.bucket != null && !BUCKETS.includes(input.bucket)) issues.add('input.bucket', `must be one of ${BUCKETS.join(', ')}`);
    if (input.metric === 'CONVERSION' || input.metric === 'USERS') {
      issues.add('input.metric', 'hot spots need an additive metric: EVENTS, PURCHASES or REVENUE');
    }
    issues.throwIfAny();
    const pub = access?.publication ?? null;
    const asked = await normalizeSelection(this.ds, input, now);
    const sel = pub ? alignSelection(asked, input.bucket ?? 'ALL') : asked;
    if (input.bucket) checkBucketCount(sel.from, sel.to, input.bucket, 'input');
    const k = minUsers(access);
    const q: AggregateQuery = { ...sel, bucket: input.bucket ?? 'ALL', grid: { kind: 'h3', resolution: res ?? null } };
    const answer = await this.aggregates.answer(q, { withUsers: k !== null, limit: MAX_STUDY, publication: pub });

    const buckets = input.bucket ? bucketStarts(sel.from, sel.to, input.bucket) : [sel.from];
    const T = buckets.length;
    const tIndex = new Map(buckets.map((b, i) => [b.getTime(), i]));
    const dataCells = new Map<string, number>();
    const hexOf = answer.rows.map((r) => {
      const cell = intToH3(r.cell);
      if (!dataCells.has(cell)) dataCells.set(cell, dataCells.size);
      return cell;
    });
    // Study area: cells with data and their rings (observed zeros), inside the query area.
    const disk = (c: string) => cachedDisk(c, ring);
    // Tens of thousands of cells: the loops below yield the event loop every few ms.
    const slice = timeSlicer();
    const study = new Set<string>();
    for (const c of dataCells.keys()) {
      for (const n of disk(c)) study.add(n);
      if (slice.due()) await slice.pause();
    }
    if (study.size * T > MAX_STUDY) {
      throw ValidationError.of('input.h3Resolution', `the study area has more than ${MAX_STUDY} cells × buckets; use a coarser resolution`);
    }
    const zeros = [...study].filter((c) => !dataCells.has(c));
    const inside = sel.area ? await this.inArea(sel.area, zeros) : new Set(zeros);
    const cells = [...dataCells.keys(), ...zeros.filter((c) => inside.has(c))];
    const cellIndex = new Map(cells.map((c, i) => [c, i]));
    // Location i is cell ⌊i / T⌋ in bucket i mod T.
    const x = new Float64Array(cells.length * T);
    const users = new Float64Array(cells.length * T);
    answer.rows.forEach((r, k) => {
      const i = dataCells.get(hexOf[k]!)! * T + tIndex.get(r.bucket.getTime())!;
      x[i] = metricValue(q, r) ?? 0;
      users[i] = r.users ?? 0;
    });
    const rings: number[][] = [];
    for (const c of cells) {
      const around: number[] = [];
      for (const n of disk(c)) {
        const at = cellIndex.get(n);
        if (at !== undefined) around.push(at);
      }
      rings.push(around);
      if (slice.due()) await slice.pause();
    }
    const neighbours = (i: number): number[] => {
      const c = Math.floor(i / T);
      const t = i % T;
      if (!input.bucket) return rings[c]!;
      const out: number[] = [];
      for (const dt of [0, -1, 1]) if (t + dt >= 0 && t + dt < T) for (const n of rings[c]!) out.push(n * T + t + dt);
      return out;
    };
    const stats = await giStarIndexedSliced(x, neighbours, slice);
    // A location under k users is not shown; nor is a neighbourhood whose hidden part (the sum of
    // such neighbours) rests on 1..k-1 users, since it and the shown cells would give it away.
    const hidden = (j: number) => k !== null && x[j]! > 0 && users[j]! < k;
    const hiddenNeighbourhood = (i: number): boolean => {
      if (k === null) return false;
      let n = 0;
      for (const j of neighbours(i)) if (hidden(j)) n += users[j]!;
      return n > 0 && n < k;
    };
    const significant = benjaminiHochberg(stats.map((st) => st.p), alpha);
    const out: HotspotData[] = [];
    for (const [i, st] of stats.entries()) {
      if (slice.due()) await slice.pause();
      const classification: HotspotClass = significant[i] ? (st.z > 0 ? 'HOT' : 'COLD') : 'NOT_SIGNIFICANT';
      if ((input.onlySignificant ?? true) && classification === 'NOT_SIGNIFICANT') continue;
      // Restricted callers never see a cell resting on fewer than k users (zero cells have none to reveal).
      if (hidden(i)) continue;
      const c = cells[Math.floor(i / T)]!;
      out.push({
        cellId: c,
        bucketStart: input.bucket ? buckets[i % T]! : null,
        value: x[i]!,
        neighbourhoodValue: hiddenNeighbourhood(i) ? null : st.neighbourhoodSum,
        zScore: st.z,
        pValue: st.p,
        classification,
        geometry: opts.withGeometry ? cellPolygon(c) : null,
      });
    }
    return out.sort((a, b) => b.zScore - a.zScore || (a.cellId < b.cellId ? -1 : 1));
  }

  /** Which cells (by their centre) lie in the area. */
  private async inArea(area: Area, cells: readonly string[]): Promise<Set<string>> {
    if (cells.length === 0) return new Set();
    const sql = new Sql();
    const lat = cells.map((c) => cachedCentre(c)[0]);
    const lng = cells.map((c) => cachedCentre(c)[1]);
    const pts = `unnest(${sql.p(cells.map(h3ToInt), 'bigint[]')}, ${sql.p(lat, 'float8[]')}, ${sql.p(lng, 'float8[]')}) AS x(h, lat, lng)`;
    const pt = 'ST_SetSRID(ST_MakePoint(x.lng, x.lat), 4326)';
    let text: string;
    if (area.kind === 'regions') {
      text = `SELECT x.h::text AS h FROM ${pts} WHERE EXISTS (SELECT 1 FROM regions r WHERE r.id = ANY(${sql.p(area.ids, 'bigint[]')}) AND ST_Intersects(r.geom, ${pt}))`;
    } else {
      const geo = geoAreaSql(area, sql);
      text = `${geo.ctes.length ? `WITH ${geo.ctes.join(', ')} ` : ''}SELECT x.h::text AS h FROM ${pts} WHERE ${geo.contains(pt)}`;
    }
    const found = await rows<{ h: string }>(this.ds, text, sql.params);
    return new Set(found.map((r) => intToH3(r.h)));
  }
}
