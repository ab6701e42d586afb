/**
 * The state a conversation keeps between turns (conversations.state, JSON): what is under
 * discussion, what was last listed (so "the second one" and "the other one" resolve), a pending
 * clarification, the last intent, and consecutive failures (two in a row hand the conversation off).
 */

export interface Listed {
  readonly kind: 'order' | 'product';
  readonly ids: readonly string[];
}

export interface DialogueState {
  readonly orderId: string | null;
  readonly productId: string | null;
  readonly lastIntent: string | null;
  /** Asked "which order?" for this intent among these orders. */
  readonly pending: { readonly intent: string; readonly confidence?: number; readonly orderIds: readonly string[] } | null;
  readonly listed: Listed | null;
  readonly failures: number;
}

export const EMPTY_STATE: DialogueState = { orderId: null, productId: null, lastIntent: null, pending: null, listed: null, failures: 0 };

/** A stored state, tolerating older or partial JSON. */
export function readState(v: unknown): DialogueState {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Partial<DialogueState>;
  return {
    orderId: typeof o.orderId === 'string' ? o.orderId : null,
    productId: typeof o.productId === 'string' ? o.productId : null,
    lastIntent: typeof o.lastIntent === 'string' ? o.lastIntent : null,
    pending: o.pending && Array.isArray(o.pending.orderIds) ? o.pending : null,
    listed: o.listed && Array.isArray(o.listed.ids) ? o.listed : null,
    failures: typeof o.failures === 'number' ? o.failures : 0,
  };
}
