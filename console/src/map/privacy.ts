/**
 * Why a partner sees fewer numbers (docs/privacy.md): a value resting on fewer than k distinct
 * users (MERIDIAN_K_ANONYMITY, 10 by default) is not published, and every published count carries
 * differential-privacy noise. Every place the map leaves a number out says so.
 */
import { h } from '../dom';

export const K_DEFAULT = 10;

export const SUPPRESSED_REASON = `suppressed: fewer than ${K_DEFAULT} distinct users (partner privacy, k-anonymity)`;

/** The note under a partner's map. */
export function partnerNote(): HTMLElement {
  return h('p', { class: 'privacy-note', id: 'privacy-note' },
    h('strong', {}, 'Partner privacy: '),
    `a cell or bucket resting on fewer than ${K_DEFAULT} distinct users is not published (k-anonymity), so it is left blank, and every published value carries differential-privacy noise (small counts may be off by a few). `,
    'Coarser cells, regions or longer buckets keep more of them.');
}

/** Why a partner's answer came back empty. */
export function partnerEmpty(what: string): string {
  return `No ${what} here has at least ${K_DEFAULT} distinct users, so every one is suppressed for partner keys (k-anonymity). Try the regions grid, a coarser resolution, a longer bucket or a longer window.`;
}
