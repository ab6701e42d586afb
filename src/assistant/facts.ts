/**
 * The facts a reply may state, read from the database and the serving services, each returned
 * with its grounding record: orders, product facts (price, stock, ratings, review sentiment, a
 * recent review), similar products, personal recommendations, and catalog lookups by name.
 */
import type { DataSource } from 'typeorm';
import type { ProductService } from '../catalog/product.service';
import type { ReviewService } from '../catalog/review.service';
import type { TextClassifierService } from '../nlp/text-classifier.service';
import type { RecommendationService } from '../recommend/recommendation.service';
import type { GroundingData } from './grounding';
import type { OrderData } from './order.reader';
import { day, itemList, money, type ProductFacts } from './replies';
import { words } from './references';

export interface Listing {
  readonly id: string;
  readonly name: string;
  readonly price: number;
}

const SNIPPET_CHARS = 160;
const dayOrNull = (d: Date | null) => (d ? day(d) : null);
const STOP = new Set(['it', 'is', 'in', 'the', 'this', 'that', 'how', 'much', 'what', 'does', 'do', 'about', 'me', 'tell', 'price', 'stock', 'of',
  'and', 'any', 'good', 'one', 'are', 'there', 'you', 'have', 'product', 'item', 'cost', 'costs', 'rating', 'reviews', 'review', 'say', 'for', 'my']);

export function orderGrounding(o: OrderData): GroundingData {
  return {
    kind: 'ORDER',
    id: o.id,
    fields: {
      placedOn: day(o.placedAt),
      items: itemList(o).split(', '),
      productIds: o.items.map((i) => i.productId),
      total: o.total,
      ...(o.shipment ? {
        status: o.shipment.status, shippedOn: dayOrNull(o.shipment.shippedAt),
        estimatedDelivery: dayOrNull(o.shipment.estimatedDeliveryAt), deliveredOn: dayOrNull(o.shipment.deliveredAt),
      } : {}),
    },
  };
}

export class FactReader {
  constructor(
    private readonly ds: DataSource,
    private readonly products: ProductService,
    private readonly reviews: ReviewService,
    private readonly text: TextClassifierService,
    private readonly recommendations: RecommendationService,
  ) {}

  async product(id: string): Promise<{ facts: ProductFacts; grounding: GroundingData[] } | null> {
    const [p] = await this.products.byIds([id]);
    if (!p) return null;
    const [[rating], [sentiment], [recent]] = await Promise.all([
      this.reviews.ratingSummaries([id]),
      this.text.productSummaries([id]),
      this.reviews.recentByProducts([id], 1),
    ]);
    const review = recent?.find((r) => r.body.trim() !== '') ?? null;
    const snippet = review ? clip(review.body.trim()) : null;
    const ratingAverage = rating?.average == null ? null : Math.round(rating.average * 100) / 100;
    const positivePercent = sentiment?.positiveShare == null ? null : Math.round(sentiment.positiveShare * 100);
    const facts: ProductFacts = { name: p.name, price: p.price, stock: p.stock, ratingAverage, ratingCount: rating?.count ?? 0, positivePercent, snippet };
    const grounding: GroundingData[] = [{
      kind: 'PRODUCT', id: p.id,
      fields: { name: p.name, price: money(p.price), stock: p.stock, ratingAverage, ratingCount: facts.ratingCount, positivePercent },
    }];
    if (review && snippet) grounding.push({ kind: 'REVIEW', id: review.id, fields: { productId: p.id, rating: review.rating, text: snippet } });
    return { facts, grounding };
  }

  async similar(productId: string, k: number): Promise<Listing[]> {
    const [list] = await this.recommendations.similarMany([productId], k);
    return (list ?? []).map((s) => ({ id: s.product.id, name: s.product.name, price: s.product.price }));
  }

  async recommended(userId: string, k: number): Promise<(Listing & { reason: string })[]> {
    const [r] = await this.recommendations.recommendMany([userId], { first: k });
    if (!r || r instanceof Error) return [];
    return r.map((x) => ({ id: x.product.id, name: x.product.name, price: x.product.price, reason: x.reason }));
  }

  async names(ids: readonly string[]): Promise<Map<string, string>> {
    const rows = await this.products.cachedByIds(ids);
    return new Map(rows.filter((p) => p !== null).map((p) => [p.id, p.name]));
  }

  /**
   * Catalog products whose names share at least two words with the text (accents ignored), with
   * the number of shared words, best first (at most 5).
   */
  async byName(text: string): Promise<(Listing & { hits: number })[]> {
    const ws = [...new Set(words(text).filter((w) => w.length > 2 && !STOP.has(w)))].slice(0, 12);
    if (ws.length < 2) return [];
    const rows = await this.ds.query<{ id: string; name: string; price: string; hits: number }[]>(
      `SELECT id::text, name, price::text, hits FROM (
         SELECT p.id, p.name, p.price,
                (SELECT count(*) FROM unnest($1::text[]) w WHERE ${FOLD} ~ ('\\m' || w || '\\M'))::int AS hits
           FROM products p WHERE to_tsvector('simple', ${FOLD}) @@ to_tsquery('simple', $2)) x
        WHERE hits >= 2 ORDER BY hits DESC, id LIMIT 5`,
      [ws, ws.join(' | ')],
    );
    return rows.map((r) => ({ id: r.id, name: r.name, price: Number(r.price), hits: r.hits }));
  }
}

/** A product name lower-cased with the accents of Portuguese and Spanish folded (as `words` does). */
const FOLD = `translate(lower(p.name), 'áàâãäéèêëíìîïóòôõöúùûüçñ', 'aaaaaeeeeiiiiooooouuuucn')`;

export function listingGrounding(kind: 'PRODUCT' | 'RECOMMENDATION', l: Listing & { reason?: string }): GroundingData {
  return { kind, id: l.id, fields: { name: l.name, price: money(l.price), ...(l.reason ? { reason: l.reason } : {}) } };
}

function clip(s: string): string {
  if (s.length <= SNIPPET_CHARS) return s;
  const cut = s.slice(0, SNIPPET_CHARS);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), 80))}…`;
}
