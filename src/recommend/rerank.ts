/**
 * Re-ranking of recommendation candidates and the human-readable reason of each (pure; the
 * formula is documented in docs/serving.md).
 *
 *   score = 0.45·seq + 0.20·sim + 0.15·area + 0.10·hour + 0.05·sentiment + 0.05·rating − penalties
 *
 * seq      the next-item model's probability, divided by the user's best candidate's (0..1)
 * sim      best cosine similarity to one of the user's last items (0..1)
 * area     log1p(weighted activity within the radius this week), relative to the best candidate (0..1)
 * hour     the same at this hour of week (±1 h, last 4 weeks) (0..1)
 * sentiment (mean P(positive) − 0.5)·2, shrunk by n/(n+3) over n classified reviews (−1..1)
 * rating   (average − 3)/2, shrunk by n/(n+5) over n ratings (−1..1)
 * penalties: out of stock −0.5 (when not filtered out), already purchased −0.3 (when not excluded).
 * Business rule after scoring: at most ⌈first/3⌉ items of one category while others remain.
 */

export const WEIGHTS = { seq: 0.45, sim: 0.2, area: 0.15, hour: 0.1, sentiment: 0.05, rating: 0.05 } as const;
export const OUT_OF_STOCK_PENALTY = 0.5;
export const PURCHASED_PENALTY = 0.3;

export type Signal = keyof typeof WEIGHTS;

export interface Candidate {
  readonly productId: string;
  readonly name: string;
  readonly categoryId: string | null;
  readonly stock: number;
  /** Next-item model probability, 0 if not among its top K. */
  readonly seqProb: number;
  /** Best cosine to a recent item, and that item's name. */
  readonly similarity: number;
  readonly similarTo: string | null;
  readonly weekScore: number;
  readonly hourScore: number;
  /** Radius of the area tier the activity was counted in (null = everywhere). */
  readonly areaRadiusKm: number | null;
  /** Mean P(positive) over reviewCount classified reviews, or null. */
  readonly sentiment: number | null;
  /** Share of those reviews classified positive, or null. */
  readonly positiveShare: number | null;
  readonly sentimentReviews: number;
  readonly ratingAverage: number | null;
  readonly ratingCount: number;
  readonly purchased: boolean;
}

export interface ReasonContext {
  /** Name of the user's latest item and what they did with it, for sequential reasons. */
  readonly lastItemName: string | null;
  readonly lastItemAction: string | null;
  /** Request time, for "at this time of week" reasons. */
  readonly at: Date;
}

export interface Ranked {
  readonly productId: string;
  readonly score: number;
  readonly reason: string;
  readonly reasons: string[];
  readonly signals: Readonly<Record<Signal, number>>;
}

function relLog(v: number, max: number): number {
  return max > 0 && v > 0 ? Math.log1p(v) / Math.log1p(max) : 0;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function dayPart(h: number): string {
  if (h < 5) return 'nights';
  if (h < 12) return 'mornings';
  if (h < 17) return 'afternoons';
  return 'evenings';
}

function sequentialReason(ctx: ReasonContext): string {
  const name = ctx.lastItemName ?? 'your recent items';
  switch (ctx.lastItemAction) {
    case 'purchase':
      return `goes with your recent purchase of ${name}`;
    case 'cart':
      return `follows ${name} in your cart`;
    case 'favorite':
      return `follows your favorite ${name}`;
    default:
      return `follows your recent views of ${name}`;
  }
}

function fmtKm(km: number): string {
  return Number.isInteger(km) ? String(km) : km.toFixed(1);
}

export function rerank(candidates: readonly Candidate[], ctx: ReasonContext, first: number): Ranked[] {
  const maxSeq = Math.max(0, ...candidates.map((c) => c.seqProb));
  const maxWeek = Math.max(0, ...candidates.map((c) => c.weekScore));
  const maxHour = Math.max(0, ...candidates.map((c) => c.hourScore));
  const scored = candidates.map((c) => {
    const signals: Record<Signal, number> = {
      seq: maxSeq > 0 ? c.seqProb / maxSeq : 0,
      sim: Math.max(0, Math.min(1, c.similarity)),
      area: relLog(c.weekScore, maxWeek),
      hour: relLog(c.hourScore, maxHour),
      sentiment: c.sentiment === null ? 0 : (c.sentiment - 0.5) * 2 * (c.sentimentReviews / (c.sentimentReviews + 3)),
      rating: c.ratingAverage === null ? 0 : ((c.ratingAverage - 3) / 2) * (c.ratingCount / (c.ratingCount + 5)),
    };
    let score = 0;
    for (const k of Object.keys(WEIGHTS) as Signal[]) score += WEIGHTS[k] * signals[k];
    if (c.stock <= 0) score -= OUT_OF_STOCK_PENALTY;
    if (c.purchased) score -= PURCHASED_PENALTY;
    return { c, signals, score };
  });
  scored.sort((a, b) => b.score - a.score || a.c.productId.localeCompare(b.c.productId));

  // Business rule: keep the list varied: at most ⌈first/3⌉ per category while other candidates remain.
  const cap = Math.max(1, Math.ceil(first / 3));
  const perCategory = new Map<string, number>();
  const picked: typeof scored = [];
  const deferred: typeof scored = [];
  for (const s of scored) {
    const cat = s.c.categoryId ?? '-';
    const n = perCategory.get(cat) ?? 0;
    if (n < cap) {
      perCategory.set(cat, n + 1);
      picked.push(s);
    } else deferred.push(s);
    if (picked.length >= first) break;
  }
  for (const s of deferred) {
    if (picked.length >= first) break;
    picked.push(s);
  }

  return picked.map(({ c, signals, score }) => {
    const reasons = reasonsFor(c, signals, ctx);
    return { productId: c.productId, score, reason: reasons[0]!, reasons, signals };
  });
}

/** All applicable reasons, the strongest contribution first. */
export function reasonsFor(c: Candidate, signals: Readonly<Record<Signal, number>>, ctx: ReasonContext): string[] {
  const options: { weight: number; text: string }[] = [];
  if (signals.seq > 0) options.push({ weight: WEIGHTS.seq * signals.seq, text: sequentialReason(ctx) });
  if (signals.sim > 0 && c.similarTo) options.push({ weight: WEIGHTS.sim * signals.sim, text: `similar to ${c.similarTo}, which you looked at` });
  if (signals.area > 0) {
    options.push({
      weight: WEIGHTS.area * signals.area,
      text: c.areaRadiusKm === null ? 'popular this week' : `popular within ${fmtKm(c.areaRadiusKm)} km this week`,
    });
  }
  if (signals.hour > 0) {
    const h = ctx.at.getUTCHours();
    const where = c.areaRadiusKm === null ? '' : c.areaRadiusKm <= 5 ? ' nearby' : ` within ${fmtKm(c.areaRadiusKm)} km`;
    options.push({ weight: WEIGHTS.hour * signals.hour, text: `often chosen${where} on ${WEEKDAYS[ctx.at.getUTCDay()]} ${dayPart(h)} (UTC)` });
  }
  if (c.ratingAverage !== null && c.ratingCount > 0 && c.ratingAverage >= 4) {
    const buyers = c.ratingCount === 1 ? '1 buyer' : `${c.ratingCount} buyers`;
    options.push({ weight: WEIGHTS.rating * Math.max(0, signals.rating), text: `rated ${c.ratingAverage.toFixed(1)} by ${buyers}` });
  }
  if (c.positiveShare !== null && c.sentimentReviews > 0 && c.positiveShare >= 0.6) {
    const n = c.sentimentReviews === 1 ? '1 review' : `${c.sentimentReviews} reviews`;
    options.push({ weight: WEIGHTS.sentiment * Math.max(0, signals.sentiment), text: `${Math.round(c.positiveShare * 100)}% of ${n} are positive` });
  }
  options.sort((a, b) => b.weight - a.weight);
  const texts = options.map((o) => o.text);
  return texts.length ? texts : ['a popular pick'];
}
