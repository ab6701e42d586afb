/** Shared selectors of the analytics pages: metric, bucket, time window, category, region. */
import { gql } from '../api';
import { field, h } from '../dom';
import { readParams, writeParams } from '../url-state';

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

const EXTENT = 'query DataExtent { dataExtent { from to } }';

/**
 * Metric, bucket, window and category inputs. Their first values come from the URL (a shared
 * view) or else end where the data ends (`dataExtent`), so the first view shows data even when the
 * newest events are not from today; `ready` resolves once those defaults are in. Every read()
 * writes the choices back into the URL.
 */
export function selectionControls(buckets: string[], defaultBucket: string, days: number) {
  const params = readParams();
  const metric = h('select', { name: 'metric' }, ...METRICS.map((m) => h('option', { value: m, selected: m === params.get('metric') }, m.toLowerCase())));
  const wanted = params.get('bucket') ?? defaultBucket;
  const bucket = h('select', { name: 'bucket' }, ...buckets.map((b) => h('option', { value: b, selected: b === wanted }, b.toLowerCase())));
  const now = new Date();
  const from = h('input', { name: 'from', type: 'date', value: params.get('from') ?? isoDate(new Date(now.getTime() - days * 86_400_000)) });
  const to = h('input', { name: 'to', type: 'date', value: params.get('to') ?? isoDate(new Date(now.getTime() + 86_400_000)) });
  const category = h('select', { name: 'category' }, h('option', { value: '' }, 'all categories'));
  void gql<{ categories: { id: string; name: string }[] }>('query Categories { categories { id name } }')
    .then((d) => category.append(...d.categories.map((c) => h('option', { value: c.id, selected: c.id === params.get('category') }, c.name))))
    .catch(() => undefined);
  const ready = params.has('from') || params.has('to')
    ? Promise.resolve()
    : gql<{ dataExtent: { from: string | null; to: string | null } }>(EXTENT)
        .then(({ dataExtent: e }) => {
          if (!e.to) return;
          const end = Date.parse(e.to);
          to.value = isoDate(new Date(end));
          const start = Math.max(end - days * 86_400_000, e.from ? Date.parse(e.from) : 0);
          from.value = isoDate(new Date(start));
        })
        .catch(() => undefined);
  return {
    elements: [field('Metric', metric), field('Bucket', bucket), field('From', from), field('To', to), field('Category', category)],
    ready,
    read(): Selection {
      writeParams({ metric: metric.value, bucket: bucket.value, from: from.value, to: to.value, category: category.value || null });
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
  const d = await gql<{ regions: { id: string; name: string; geometry: { type: string; coordinates: unknown } }[] }>('query Regions { regions { id name geometry } }');
  return d.regions;
}
