/**
 * Time buckets in UTC (HOUR, DAY, WEEK starting Monday as Postgres' date_trunc('week'), MONTH)
 * and the split of a query range into the parts each rollup grain can answer exactly:
 * whole days from daily tables, whole hours from hourly tables, the unaligned rest from raw events.
 */
export type Bucket = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';
export const BUCKETS: readonly Bucket[] = ['HOUR', 'DAY', 'WEEK', 'MONTH'];

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A Monday, 00:00 UTC: the origin of the fixed-width bins. */
const BIN_ORIGIN = `'2000-01-03T00:00:00Z'::timestamptz`;

/**
 * SQL for the bucket start of a timestamptz expression in UTC, whatever the session time zone.
 * Hours, days and (Monday-based) weeks are fixed-width bins from a Monday origin — date_bin is
 * plain arithmetic, several times cheaper than a time-zone-aware date_trunc; months need date_trunc.
 */
export function bucketSql(b: Bucket, expr: string): string {
  if (b === 'MONTH') return `date_trunc('month', ${expr}, 'UTC')`;
  const width = b === 'HOUR' ? '1 hour' : b === 'DAY' ? '1 day' : '7 days';
  return `date_bin('${width}', ${expr}, ${BIN_ORIGIN})`;
}

export function floorBucket(t: Date | number, b: Bucket): Date {
  const ms = typeof t === 'number' ? t : t.getTime();
  switch (b) {
    case 'HOUR':
      return new Date(Math.floor(ms / HOUR_MS) * HOUR_MS);
    case 'DAY':
      return new Date(Math.floor(ms / DAY_MS) * DAY_MS);
    case 'WEEK': {
      const day = Math.floor(ms / DAY_MS);
      // 1970-01-01 was a Thursday; Monday-based weekday index = (day + 3) mod 7.
      return new Date((day - (((day + 3) % 7) + 7) % 7) * DAY_MS);
    }
    case 'MONTH': {
      const d = new Date(ms);
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
    }
  }
}

export function nextBucket(start: Date, b: Bucket): Date {
  switch (b) {
    case 'HOUR':
      return new Date(start.getTime() + HOUR_MS);
    case 'DAY':
      return new Date(start.getTime() + DAY_MS);
    case 'WEEK':
      return new Date(start.getTime() + 7 * DAY_MS);
    case 'MONTH':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  }
}

/** Every bucket start that overlaps [from, to), in order. */
export function bucketStarts(from: Date, to: Date, b: Bucket, max = Infinity): Date[] {
  const out: Date[] = [];
  for (let t = floorBucket(from, b); t.getTime() < to.getTime() && out.length < max; t = nextBucket(t, b)) out.push(t);
  return out;
}

/** Number of buckets overlapping [from, to) (cheap upper bound for validation). */
export function bucketCount(from: Date, to: Date, b: Bucket): number {
  if (to.getTime() <= from.getTime()) return 0;
  const size = b === 'HOUR' ? HOUR_MS : b === 'DAY' ? DAY_MS : b === 'WEEK' ? 7 * DAY_MS : 28 * DAY_MS;
  const approx = Math.ceil((to.getTime() - floorBucket(from, b).getTime()) / size);
  return b === 'MONTH' ? Math.min(approx, bucketStarts(from, to, b, approx + 1).length) : approx;
}

export type Grain = 'week' | 'day' | 'hour' | 'raw';

/** A half-open time range answered from one grain. */
export interface TimeSegment {
  readonly grain: Grain;
  readonly from: Date;
  readonly to: Date;
}

function ceilTo(ms: number, step: number): number {
  return Math.ceil(ms / step) * step;
}

/**
 * Splits [from, to) into segments: whole Monday-based weeks (when `useWeeks`), whole UTC days
 * (when `useDays`), then whole hours, then the unaligned edges from raw events. Segments are
 * disjoint and cover the range exactly.
 */
export function planSegments(from: Date, to: Date, useDays: boolean, useWeeks = false): TimeSegment[] {
  const a = from.getTime();
  const b = to.getTime();
  if (b <= a) return [];
  const out: TimeSegment[] = [];
  const push = (grain: Grain, x: number, y: number) => {
    if (y > x) out.push({ grain, from: new Date(x), to: new Date(y) });
  };
  const h0 = Math.min(ceilTo(a, HOUR_MS), b);
  const h1 = Math.max(Math.floor(b / HOUR_MS) * HOUR_MS, h0);
  push('raw', a, h0);
  if (useDays) {
    const d0 = Math.min(ceilTo(h0, DAY_MS), h1);
    const d1 = Math.max(Math.floor(h1 / DAY_MS) * DAY_MS, d0);
    push('hour', h0, d0);
    if (useWeeks) {
      const w0 = Math.min(floorBucket(d0 + 7 * DAY_MS - 1, 'WEEK').getTime(), d1);
      const w1 = Math.max(floorBucket(d1, 'WEEK').getTime(), w0);
      push('day', d0, w0);
      push('week', w0, w1);
      push('day', w1, d1);
    } else {
      push('day', d0, d1);
    }
    push('hour', d1, h1);
  } else {
    push('hour', h0, h1);
  }
  push('raw', h1, b);
  return out;
}
