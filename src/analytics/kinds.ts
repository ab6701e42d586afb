/**
 * (category, type) codes: the `kinds` arrays of the per-user rollups (analytics_user_hourly,
 * analytics_region_users_*) hold one code per pair seen, category_id · 8 + type code.
 */
import type { EventTypeName } from '../events/event.entity';

/** Small codes for (category, type) pairs in analytics_user_hourly.kinds: category_id · 8 + code. */
export const TYPE_CODE: Readonly<Record<EventTypeName, number>> = { view: 1, search: 2, cart: 3, purchase: 4, favorite: 5 };

/** The (category, type) code of a raw event row aliased `alias` whose category is `cat`. */
export function kindCode(alias: string, cat: string): string {
  const cases = Object.entries(TYPE_CODE).map(([t, c]) => `WHEN '${t}' THEN ${c}`).join(' ');
  return `(${cat} * 8 + CASE ${alias}.type ${cases} END)`;
}

/** The (category, type) codes that count for these types and categories (null: every category). */
export function kindCodes(types: readonly EventTypeName[], cats: readonly string[] | null, allCats: readonly string[]): string[] {
  const codes: string[] = [];
  for (const c of cats ?? ['0', ...allCats]) for (const t of types) codes.push((BigInt(c) * 8n + BigInt(TYPE_CODE[t])).toString());
  return codes;
}

/** ON CONFLICT update of a `kinds` array: the sorted union of old and new codes. */
export const MERGE_KINDS = 'ARRAY(SELECT DISTINCT k FROM unnest(t.kinds || EXCLUDED.kinds) AS u(k) ORDER BY k)';
