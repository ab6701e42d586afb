/** How the map writes metrics, buckets and cells in labels, tooltips and the table. */
import { fmt } from '../dom';

export function metricLabel(metric: string): string {
  return { EVENTS: 'events', USERS: 'distinct users', PURCHASES: 'purchases', REVENUE: 'revenue', CONVERSION: 'conversion (purchases ÷ views)' }[metric] ?? metric.toLowerCase();
}

export function formatValue(metric: string, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (metric === 'CONVERSION') return `${(v * 100).toFixed(v < 0.1 ? 2 : 1)}%`;
  if (metric === 'REVENUE') return Math.round(v).toLocaleString('en');
  return fmt(Math.round(v * 100) / 100);
}

/** "week of 2026-05-25", "2026-05-31", "May 2026". */
export function bucketLabel(iso: string, bucket: string): string {
  const d = new Date(iso);
  const day = d.toISOString().slice(0, 10);
  if (bucket === 'WEEK') return `week of ${day}`;
  if (bucket === 'MONTH') return d.toLocaleString('en', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  if (bucket === 'HOUR') return `${day} ${d.toISOString().slice(11, 16)} UTC`;
  return day;
}

export function shortCell(id: string): string {
  return id.length > 10 ? `${id.slice(0, 9)}…` : id;
}
