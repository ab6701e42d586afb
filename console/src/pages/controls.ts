/** Shared selectors of the analytics pages: metric, bucket, time window, category, region. */
import { gql } from '../api';
import { field, h } from '../dom';

export const METRICS = ['EVENTS', 'USERS', 'PURCHASES', 'REVENUE', 'CONVERSION'] as const;

function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export interface Selection {
  metric: string;
  bucket: string;
  from: string;
  to: string;
  categoryIds: string[] | null;
}

export function selectionControls(buckets: string[], defaultBucket: string, days: number) {
  const metric = h('select', { name: 'metric' }, ...METRICS.map((m) => h('option', { value: m }, m.toLowerCase())));
  const bucket = h('select', { name: 'bucket' }, ...buckets.map((b) => h('option', { value: b, selected: b === defaultBucket }, b.toLowerCase())));
  const now = new Date();
  const from = h('input', { name: 'from', type: 'date', value: isoDate(new Date(now.getTime() - days * 86_400_000)) });
  const to = h('input', { name: 'to', type: 'date', value: isoDate(new Date(now.getTime() + 86_400_000)) });
  const category = h('select', { name: 'category' }, h('option', { value: '' }, 'all categories'));
  void gql<{ categories: { id: string; name: string }[] }>('{ categories { id name } }')
    .then((d) => category.append(...d.categories.map((c) => h('option', { value: c.id }, c.name))))
    .catch(() => undefined);
  return {
    elements: [field('Metric', metric), field('Bucket', bucket), field('From', from), field('To', to), field('Category', category)],
    read(): Selection {
      return {
        metric: metric.value,
        bucket: bucket.value,
        from: `${from.value}T00:00:00Z`,
        to: `${to.value}T00:00:00Z`,
        categoryIds: category.value ? [category.value] : null,
      };
    },
  };
}

export async function cityRegions(): Promise<{ id: string; name: string; geometry: { type: string; coordinates: unknown } }[]> {
  const d = await gql<{ regions: { id: string; name: string; geometry: { type: string; coordinates: unknown } }[] }>('{ regions { id name geometry } }');
  return d.regions;
}
