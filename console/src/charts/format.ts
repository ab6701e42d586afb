/**
 * Numbers on charts: what each metric counts (its unit), axis ticks that never repeat ("0, 0.1,
 * 0.1"), hover values, probabilities that fit a phone, and UTC bucket dates.
 *
 * Currency: the API has no currency field. REVENUE is Σ price × quantity of purchases in whatever
 * currency the prices were loaded in (README: "shown in currency units"), so the console says
 * "currency units" rather than guess a symbol.
 */
export type ValueKind = 'count' | 'money' | 'ratio';

export interface Unit {
  readonly kind: ValueKind;
  /** What is counted, e.g. "events", "currency units", "% of views". */
  readonly name: string;
}

const METRIC_UNITS: Readonly<Record<string, Unit & { title: string }>> = {
  EVENTS: { kind: 'count', name: 'events', title: 'Events' },
  USERS: { kind: 'count', name: 'distinct users', title: 'Users' },
  PURCHASES: { kind: 'count', name: 'purchases', title: 'Purchases' },
  REVENUE: { kind: 'money', name: 'currency units', title: 'Revenue' },
  CONVERSION: { kind: 'ratio', name: 'purchases ÷ views', title: 'Conversion' },
};

export function metricUnit(metric: string): Unit & { title: string } {
  return METRIC_UNITS[metric] ?? { kind: 'count', name: metric.toLowerCase(), title: metric.toLowerCase() };
}

/** Fewest decimals that write `step` exactly (0.25 → 2, 5 → 0). */
function decimalsFor(step: number): number {
  for (let d = 0; d <= 6; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(Math.round(scaled) - scaled) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 6;
}

/** Axis labels for ticks `splits` spaced `incr` apart: distinct, compact (12.5k), percent for ratios. */
export function tickLabels(kind: ValueKind, splits: number[], incr: number): string[] {
  const mult = kind === 'ratio' ? 100 : 1;
  const maxAbs = Math.max(0, ...splits.map((s) => Math.abs(s * mult)));
  const [div, suffix] = maxAbs >= 1e6 ? [1e6, 'M'] : maxAbs >= 1e4 ? [1e3, 'k'] : [1, ''];
  const dec = decimalsFor(Math.abs(incr * mult) / div);
  return splits.map((s) => {
    const v = (s * mult) / div;
    const text = (Object.is(v, -0) ? 0 : v).toLocaleString('en', { minimumFractionDigits: dec, maximumFractionDigits: dec });
    return `${text}${suffix}${kind === 'ratio' ? '%' : ''}`;
  });
}

/** A value in a hover legend or a caption. */
export function formatValue(kind: ValueKind, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (kind === 'ratio') return formatPercent(v);
  if (kind === 'money') return v.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return v.toLocaleString('en', { maximumFractionDigits: Math.abs(v) >= 100 ? 0 : 1 });
}

/** A share in [0, 1] as a percentage that fits a narrow column: "<0.1%", "12.3%", ">99.9%". */
export function formatPercent(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '–';
  if (p === 0) return '0%';
  if (p > 0 && p < 0.0005) return '<0.1%';
  if (p < 1 && p > 0.9995) return '>99.9%';
  return `${(p * 100).toFixed(1)}%`;
}

/** "1 purchase", "3 purchases". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}

/** A bucket's start, in UTC, at the bucket's grain. */
export function formatBucket(ms: number, bucket: string): string {
  const iso = new Date(ms).toISOString();
  if (bucket === 'HOUR') return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
  if (bucket === 'WEEK') return `week of ${iso.slice(0, 10)}`;
  if (bucket === 'MONTH') return iso.slice(0, 7);
  return iso.slice(0, 10);
}
