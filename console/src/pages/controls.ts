/** Shared selectors of the analytics pages: metric, bucket, time window (with presets), category, region. */
import { gql } from '../api';
import { field, h } from '../dom';
import { readParams, writeParams } from '../url-state';

const METRICS = ['EVENTS', 'USERS', 'PURCHASES', 'REVENUE', 'CONVERSION'] as const;

const DAY_MS = 86_400_000;

function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export interface Selection {
  metric: string;
  bucket: string;
  from: string;
  to: string;
  categoryIds: string[] | null;
  /** The preset the window came from (`7d`, `30d`, `all`…), or null for dates picked by hand. */
  range: string | null;
}

export interface DataExtent {
  /** Start of the first event's UTC day, epoch ms. */
  from: number;
  /** End of the last event's UTC day (exclusive), epoch ms. */
  to: number;
}

const EXTENT = 'query DataExtent { dataExtent { from to } }';

/** The presets: last N days before the data's end, or all of it. */
const PRESETS: { value: string; label: string }[] = [
  { value: '7d', label: 'Last 7 days' },
  { value: '30d', label: 'Last 30 days' },
  { value: '90d', label: 'Last 90 days' },
  { value: 'all', label: 'All data' },
];

/**
 * Metric, bucket, window and category inputs. Their first values come from the URL (a shared
 * view) or else end where the data ends (`dataExtent`), so the first view shows data even when the
 * newest events are not from today; `ready` resolves once those defaults are in. A time-range
 * preset (last 7/30/90 days, all data) counts back from the data's end; `onPreset` runs when one is
 * picked (pages reload on it). Every read() writes the choices back into the URL; call validate()
 * first: read() assumes both dates are set and the window is not empty (a preset reloads without
 * the form's `required` check).
 */
export function selectionControls(buckets: string[], defaultBucket: string, days: number, onPreset?: () => void) {
  const params = readParams();
  const metric = h('select', { name: 'metric' }, ...METRICS.map((m) => h('option', { value: m, selected: m === params.get('metric') }, m.toLowerCase())));
  const wanted = params.get('bucket') ?? defaultBucket;
  const bucket = h('select', { name: 'bucket' }, ...buckets.map((b) => h('option', { value: b, selected: b === wanted }, b.toLowerCase())));
  const now = new Date();
  const from = h('input', { name: 'from', type: 'date', required: true, value: params.get('from') ?? isoDate(new Date(now.getTime() - days * DAY_MS)) });
  const to = h('input', { name: 'to', type: 'date', required: true, value: params.get('to') ?? isoDate(new Date(now.getTime() + DAY_MS)) });
  const presets = [...PRESETS];
  const defaultRange = `${days}d`;
  if (!presets.some((p) => p.value === defaultRange)) presets.unshift({ value: defaultRange, label: `Last ${days} days` });
  // A shared URL with dates and no preset keeps its dates; otherwise the preset (default: last `days` days).
  const wantedRange = params.get('range') ?? (params.has('from') || params.has('to') ? 'custom' : defaultRange);
  const range = h('select', { name: 'range' },
    ...presets.map((p) => h('option', { value: p.value, selected: p.value === wantedRange }, p.label)),
    h('option', { value: 'custom', selected: !presets.some((p) => p.value === wantedRange) }, 'Custom dates'));
  const category = h('select', { name: 'category' }, h('option', { value: '' }, 'all categories'));
  void gql<{ categories: { id: string; name: string }[] }>('query Categories { categories { id name } }')
    .then((d) => category.append(...d.categories.map((c) => h('option', { value: c.id, selected: c.id === params.get('category') }, c.name))))
    .catch(() => undefined);

  let extent: DataExtent | null = null;
  /** Sets the date inputs from the preset, relative to the data's end (today when there is no data). */
  function applyPreset(): void {
    if (range.value === 'custom') return;
    const end = extent?.to ?? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    const start = range.value === 'all' ? (extent?.from ?? end - days * DAY_MS) : Math.max(end - Number.parseInt(range.value, 10) * DAY_MS, extent?.from ?? 0);
    from.value = isoDate(new Date(start));
    to.value = isoDate(new Date(end));
  }
  range.addEventListener('change', () => {
    applyPreset();
    onPreset?.();
  });
  // Dates picked by hand are a custom window.
  for (const input of [from, to]) input.addEventListener('input', () => (range.value = 'custom'));

  const ready = gql<{ dataExtent: { from: string | null; to: string | null } }>(EXTENT)
    .then(({ dataExtent: e }) => {
      if (e.from && e.to) extent = { from: Date.parse(e.from), to: Date.parse(e.to) };
    })
    .catch(() => undefined)
    .then(applyPreset);

  return {
    elements: [field('Metric', metric), field('Bucket', bucket), field('Time range', range), field('From', from), field('To', to), field('Category', category)],
    ready,
    /** The span of the data (null before `ready`, or with no events). */
    extent: (): DataExtent | null => extent,
    /** Why the window cannot be read (a message naming the field), or null when read() may be called. */
    validate(): string | null {
      if (!from.value) return 'From: pick a start date.';
      if (!to.value) return 'To: pick an end date.';
      if (from.value >= to.value) return `From (${from.value}) must be before To (${to.value}): the window is empty.`;
      return null;
    },
    read(): Selection {
      const preset = range.value === 'custom' ? null : range.value;
      writeParams({ metric: metric.value, bucket: bucket.value, range: preset, from: from.value, to: to.value, category: category.value || null });
      return {
        metric: metric.value,
        bucket: bucket.value,
        from: `${from.value}T00:00:00Z`,
        to: `${to.value}T00:00:00Z`,
        categoryIds: category.value ? [category.value] : null,
        range: preset,
      };
    },
  };
}

export async function cityRegions(): Promise<{ id: string; name: string; geometry: { type: string; coordinates: unknown } }[]> {
  const d = await gql<{ regions: { id: string; name: string; geometry: { type: string; coordinates: unknown } }[] }>('query Regions { regions { id name geometry } }');
  return d.regions;
}
