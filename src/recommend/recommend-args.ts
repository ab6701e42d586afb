/**
 * The arguments of a recommendation request: their checks (each bad one named by its path) and
 * the business-rule filter they set. Pure but for the category list, which the caller supplies.
 */
import type { ProductEntity } from '../catalog/product.entity';
import { IssueCollector } from '../common/errors';
import { checkPoint, type GeoPoint } from '../common/geo';
import { isNumericId } from '../db/query-filters';

export interface RecommendFilterData {
  /** Category ids or names. */
  readonly categories?: readonly string[] | null;
  readonly priceRange?: { readonly min?: number | null; readonly max?: number | null } | null;
  readonly inStockOnly?: boolean | null;
  readonly excludePurchased?: boolean | null;
  readonly excludeProductIds?: readonly string[] | null;
}

export interface RecommendArgs {
  readonly first?: number | null;
  readonly near?: GeoPoint | null;
  readonly at?: Date | null;
  readonly filter?: RecommendFilterData | null;
}

/** Checked arguments, defaults filled in; categories as ids. */
export interface NormalizedArgs {
  readonly first: number;
  readonly near: GeoPoint | null;
  readonly at: Date;
  readonly categories: readonly string[] | null;
  readonly minPrice: number | null;
  readonly maxPrice: number | null;
  readonly inStockOnly: boolean;
  readonly excludePurchased: boolean;
  readonly excludeIds: ReadonlySet<string>;
}

export interface CategoryName {
  readonly id: string;
  readonly name: string;
}

export const MAX_FIRST = 100;
export const DEFAULT_FIRST = 10;
/** Requests may look this far ahead of the clock (client skew). */
const FUTURE_SKEW_MS = 5 * 60_000;
const MAX_EXCLUDED_IDS = 1000;

/** `first` within 1..MAX_FIRST (default when absent); an issue naming `path` otherwise. */
export function checkFirst(first: number | null | undefined, issues: IssueCollector, path = 'first', def = DEFAULT_FIRST): number {
  if (first === null || first === undefined) return def;
  if (!Number.isInteger(first) || first < 1 || first > MAX_FIRST) {
    issues.add(path, `must be an integer between 1 and ${MAX_FIRST}`);
    return def;
  }
  return first;
}

/**
 * Checks every argument and reports all problems at once (ValidationError); `categories` lists
 * the catalog's categories and is asked only when the filter names some.
 */
export async function normalizeArgs(args: RecommendArgs, categories: () => Promise<readonly CategoryName[]>): Promise<NormalizedArgs> {
  const issues = new IssueCollector();
  const first = checkFirst(args.first, issues);
  if (args.near) checkPoint(args.near, 'near', issues);
  const at = args.at ?? new Date();
  if (!Number.isFinite(at.getTime())) issues.add('at', 'is not a valid time');
  else if (at.getTime() > Date.now() + FUTURE_SKEW_MS) issues.add('at', 'must not be in the future');
  const f = args.filter ?? {};
  const min = f.priceRange?.min ?? null;
  const max = f.priceRange?.max ?? null;
  if (min !== null && (!Number.isFinite(min) || min < 0)) issues.add('filter.priceRange.min', 'must be a number ≥ 0');
  if (max !== null && (!Number.isFinite(max) || max < 0)) issues.add('filter.priceRange.max', 'must be a number ≥ 0');
  if (min !== null && max !== null && min > max) issues.add('filter.priceRange.min', 'must not exceed max');
  const excluded = f.excludeProductIds ?? [];
  excluded.forEach((id, i) => {
    if (!isNumericId(id)) issues.add(`filter.excludeProductIds[${i}]`, 'is not a valid id');
  });
  if (excluded.length > MAX_EXCLUDED_IDS) issues.add('filter.excludeProductIds', `at most ${MAX_EXCLUDED_IDS} ids`);
  const categoryIds = f.categories?.length ? categoryIdsOf(f.categories, await categories(), issues) : null;
  issues.throwIfAny();
  return {
    first,
    near: args.near ?? null,
    at,
    categories: categoryIds,
    minPrice: min,
    maxPrice: max,
    inStockOnly: f.inStockOnly ?? false,
    excludePurchased: f.excludePurchased ?? false,
    excludeIds: new Set(excluded),
  };
}

/** Category ids or names (case-insensitive) as ids; an issue for each unknown one. */
function categoryIdsOf(asked: readonly string[], all: readonly CategoryName[], issues: IssueCollector): string[] {
  const ids: string[] = [];
  asked.forEach((c, i) => {
    const hit = all.find((row) => row.id === c || row.name.toLowerCase() === c.trim().toLowerCase());
    if (!hit) issues.add(`filter.categories[${i}]`, `unknown category "${c}"`);
    else ids.push(hit.id);
  });
  return ids;
}

/** Business-rule filters; purchased items are penalised in rerank when not excluded here. */
export function passesFilter(p: ProductEntity, purchased: ReadonlySet<string>, a: NormalizedArgs): boolean {
  if (a.excludeIds.has(p.id)) return false;
  if (a.excludePurchased && purchased.has(p.id)) return false;
  if (a.inStockOnly && p.stock <= 0) return false;
  if (a.minPrice !== null && p.price < a.minPrice) return false;
  if (a.maxPrice !== null && p.price > a.maxPrice) return false;
  if (a.categories && (!p.categoryId || !a.categories.includes(p.categoryId))) return false;
  return true;
}
