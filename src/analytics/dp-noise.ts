/**
 * Laplace noise for restricted analytics answers (docs/privacy.md has the mechanism and its limits).
 *
 * Each published row (one cell × bucket of one query shape) gets noise drawn from a stream seeded
 * by HMAC-SHA256(secret, shape | cell | bucket): the same row asked again, by any key and from
 * any server sharing the database, gets the same noise, so repeating a query cannot average the
 * noise away, and two queries that share a row publish the same value for it.
 *
 * Scales: counts (events of each type, purchases, units, users) get Laplace(1/ε): a count moves by
 * at most 1 when one event (or, for users, one person in that cell × bucket) is added or removed.
 * Revenue gets Laplace(revenueSensitivity/ε): one purchase's revenue is clamped to that bound in the
 * sensitivity but not in the data, so a larger single purchase is protected less (documented).
 * Noisy counts are rounded and kept ≥ 0 (post-processing: no privacy cost).
 */
import crypto from 'node:crypto';
import { COUNT_COLUMNS, type CountColumn } from './rollup';

export interface NoiseParams {
  /** ε charged per answer and used for every value's noise. */
  readonly epsilon: number;
  /** Revenue sensitivity, in currency units (one purchase's worth). */
  readonly revenueSensitivity: number;
}

export interface NoisyRow {
  counts: Record<CountColumn, number>;
  users: number | null;
}

/** Laplace(0, b) from a uniform u in (0, 1). */
export function laplace(u: number, b: number): number {
  const centred = u - 0.5;
  return -b * Math.sign(centred) * Math.log(1 - 2 * Math.abs(centred));
}

export class DpNoise {
  constructor(
    private readonly secret: string,
    readonly params: NoiseParams,
  ) {}

  /** Uniforms in (0, 1), eight per 32 bytes of HMAC output, for one row's values. */
  private uniforms(seed: string, n: number): number[] {
    const out: number[] = [];
    for (let block = 0; out.length < n; block++) {
      const digest = crypto.createHmac('sha256', this.secret).update(`${seed}|${block}`).digest();
      for (let i = 0; i < 32 && out.length < n; i += 4) out.push((digest.readUInt32BE(i) + 0.5) / 2 ** 32);
    }
    return out;
  }

  /** Adds the row's noise in place. `seed` names the query shape, the cell and the bucket. */
  perturb(seed: string, row: NoisyRow): void {
    const { epsilon, revenueSensitivity } = this.params;
    const u = this.uniforms(seed, COUNT_COLUMNS.length + 1);
    COUNT_COLUMNS.forEach((c, i) => {
      // revenue_cents: the sensitivity is in currency units, the column in cents.
      const scale = c === 'revenue_cents' ? (revenueSensitivity * 100) / epsilon : 1 / epsilon;
      row.counts[c] = Math.max(0, Math.round(row.counts[c] + laplace(u[i]!, scale)));
    });
    if (row.users !== null) row.users = Math.max(0, Math.round(row.users + laplace(u[COUNT_COLUMNS.length]!, 1 / epsilon)));
  }
}
