/**
 * Reply templates, per locale (English today; a locale without templates is answered in English and
 * the conversation says so). Every fact a template states comes from its arguments, which the
 * caller takes from the grounding: the templates invent nothing.
 */
import type { OrderData } from './order.reader';

export type HandoffReason = 'REQUESTED' | 'OUT_OF_SCOPE' | 'LOW_CONFIDENCE' | 'REPEATED_FAILURE' | 'COMPLAINT' | 'NO_ANSWER';

export interface ProductFacts {
  readonly name: string;
  readonly price: number;
  readonly stock: number;
  readonly ratingAverage: number | null;
  readonly ratingCount: number;
  /** Share of review texts the sentiment model reads positive, in whole percent. */
  readonly positivePercent: number | null;
  readonly snippet: string | null;
}

export interface Templates {
  orderSummary(o: OrderData): string;
  orderStatus(o: OrderData): string;
  /** The order's delivery as the platform reported it (status, dates), or that there is none. */
  delivery(o: OrderData): string;
  noDeliveryData(): string;
  orderAction(intent: string, o: OrderData): string;
  chooseOrder(orders: readonly OrderData[]): string;
  noOrders(): string;
  unknownOrderNumber(): string;
  similar(baseName: string, items: readonly { name: string; price: number }[]): string;
  noSimilar(baseName: string): string;
  recommended(items: readonly { name: string; price: number }[]): string;
  productFacts(p: ProductFacts): string;
  whichProduct(): string;
  greeting(): string;
  thanks(): string;
  handoff(reason: HandoffReason): string;
}

export const money = (n: number) => n.toFixed(2);
export const day = (d: Date) => d.toISOString().slice(0, 10);
export const itemList = (o: OrderData) => o.items.map((i) => (i.quantity > 1 ? `${i.quantity} × ${i.name}` : i.name)).join(', ');

const en: Templates = {
  orderSummary: (o) => `Order #${o.id}, placed on ${day(o.placedAt)}: ${itemList(o)}${o.total === null ? '' : `, total ${money(o.total)}`}.`,
  orderStatus: (o) => `${en.orderSummary(o)} ${en.delivery(o)}`,
  delivery: (o) => {
    const s = o.shipment;
    if (!s) return "The shop's records hold no shipping status for it; Track order shows the carrier's latest.";
    const eta = s.estimatedDeliveryAt ? ` (estimated delivery ${day(s.estimatedDeliveryAt)})` : '';
    switch (s.status) {
      case 'delivered': return `It was delivered on ${day(s.deliveredAt!)}.`;
      case 'shipped': return `It was shipped${s.shippedAt ? ` on ${day(s.shippedAt)}` : ''}${eta}.`;
      case 'processing': return `It has not shipped yet${eta}.`;
      case 'returned': return 'It was returned.';
      case 'lost': return 'The carrier reported it lost; a member of our team will contact you.';
    }
  },
  noDeliveryData: () => "The shop's data has no delivery estimate for this order.",
  orderAction: (intent, o) => {
    const lead = en.orderSummary(o);
    switch (intent) {
      case 'cancel_order': return `${lead} You can request its cancellation below.`;
      case 'change_order': return `${lead} You can ask for a change to it below.`;
      case 'change_shipping_address': return `${lead} You can change its delivery address below.`;
      case 'get_invoice': case 'check_invoice': return `${lead} Its invoice can be downloaded below.`;
      case 'track_refund': return `${lead} You can follow its refund below.`;
      case 'review': return `${lead} You can review it below.`;
      default: return `${lead} You can start a return for it below.`;
    }
  },
  chooseOrder: (orders) => `Which of your recent orders do you mean: ${orders.map((o) => `#${o.id} from ${day(o.placedAt)} (${itemList(o)})`).join('; ')}?`,
  noOrders: () => "I can't find any orders on your account.",
  unknownOrderNumber: () => "I can't find that order number on your account. Which order do you mean?",
  similar: (base, items) => `Similar to ${base}: ${items.map((i) => `${i.name} (${money(i.price)})`).join('; ')}.`,
  noSimilar: (base) => `I have nothing similar to ${base} to suggest right now.`,
  recommended: (items) => `Picked for you: ${items.map((i) => `${i.name} (${money(i.price)})`).join('; ')}.`,
  productFacts: (p) => {
    const stock = p.stock > 0 ? `${p.stock} in stock` : 'out of stock';
    const rating = p.ratingAverage === null ? 'no ratings yet' : `rated ${p.ratingAverage.toFixed(2)} on average by ${p.ratingCount} reviewers`;
    const mood = p.positivePercent === null ? '' : `; ${p.positivePercent}% of review texts read positive`;
    const quote = p.snippet ? ` A recent review: "${p.snippet}"` : '';
    return `${p.name}: ${money(p.price)}, ${stock}, ${rating}${mood}.${quote}`;
  },
  whichProduct: () => 'Which product do you mean? Tell me its name.',
  greeting: () => 'Hello! I can help with your orders, deliveries, returns, payments, your account and our products.',
  thanks: () => "You're welcome. Is there anything else I can help with?",
  handoff: (reason) => {
    const lead: Record<HandoffReason, string> = {
      REQUESTED: 'Of course.',
      OUT_OF_SCOPE: 'I can help with orders, deliveries, returns, payments, accounts and products, but not with this.',
      LOW_CONFIDENCE: "I'm not sure I understood.",
      REPEATED_FAILURE: "Sorry that I couldn't sort this out.",
      COMPLAINT: "I'm sorry about this.",
      NO_ANSWER: "I don't have the shop's answer to that.",
    };
    return `${lead[reason]} I'm passing this conversation to a member of our team; they will reply here.`;
  },
};

const LOCALES: Readonly<Record<string, Templates>> = { en };

/** The templates for a locale ("pt-BR" → "pt" → English), and the locale actually used. */
export function templatesFor(locale: string): { locale: string; t: Templates } {
  const lang = locale.toLowerCase().split('-')[0]!;
  const t = LOCALES[locale] ?? LOCALES[lang];
  return t ? { locale: LOCALES[locale] ? locale : lang, t } : { locale: 'en', t: en };
}
