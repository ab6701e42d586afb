/**
 * What is map-specific in the map's labels: metric names in running text ("events: 1,234",
 * "conversion (purchases ÷ views): 2.5%") and short cell ids. Values and bucket dates are written
 * as everywhere else in the console (../charts/format).
 */
import { formatValue, metricUnit } from '../charts/format';

/** The metric in running text: its unit for counts, else "revenue (currency units)". */
export function metricLabel(metric: string): string {
  const unit = metricUnit(metric);
  return unit.kind === 'count' ? unit.name : `${unit.title.toLowerCase()} (${unit.name})`;
}

/** A value of `metric`, in its unit (percent for conversion). */
export function metricValue(metric: string, v: number | null | undefined): string {
  return formatValue(metricUnit(metric).kind, v);
}

export function shortCell(id: string): string {
  return id.length > 10 ? `${id.slice(0, 9)}…` : id;
}
