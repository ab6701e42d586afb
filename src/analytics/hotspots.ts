/**
 * Getis-Ord Gi* hot-spot statistics (Getis & Ord 1992; Ord & Getis 1995) with binary weights:
 * each location's neighbourhood includes itself ("star"). Pure: the caller supplies the study
 * area (every location, zeros included) and a neighbour function (H3 rings, optionally also the
 * same ring in the previous and next time slice for space-time hot spots).
 *
 *   Gi*(i) = (Σ_j w_ij x_j − X̄ Σ_j w_ij) / (S · √((n Σ_j w_ij² − (Σ_j w_ij)²) / (n − 1)))
 *   X̄ = Σ x / n,  S = √(Σ x² / n − X̄²)
 *
 * Gi* is already a z-score; p-values are two-sided from the standard normal. With many locations
 * tested at once, Benjamini–Hochberg controls the false discovery rate.
 */

export interface GiStar {
  readonly key: string;
  readonly value: number;
  /** Σ of values over the neighbourhood (self included). */
  readonly neighbourhoodSum: number;
  readonly neighbours: number;
  readonly z: number;
  readonly p: number;
}

/** Gi* of one location of an indexed study area (see giStarIndexed). */
export interface GiStarIndexed {
  readonly neighbourhoodSum: number;
  readonly neighbours: number;
  readonly z: number;
  readonly p: number;
}

/** Mean and standard deviation of the whole study area, shared by every location's Gi*. */
function moments(x: Float64Array): { xbar: number; s: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < x.length; i++) {
    sum += x[i]!;
    sumSq += x[i]! * x[i]!;
  }
  const xbar = sum / x.length;
  return { xbar, s: Math.sqrt(Math.max(0, sumSq / x.length - xbar * xbar)) };
}

function giStarAt(x: Float64Array, around: ArrayLike<number>, m: { xbar: number; s: number }): GiStarIndexed {
  const n = x.length;
  const wsum = around.length;
  let local = 0;
  for (let k = 0; k < wsum; k++) local += x[around[k]!]!;
  const denom = m.s * Math.sqrt((n * wsum - wsum * wsum) / (n - 1));
  const z = denom > 0 ? (local - m.xbar * wsum) / denom : 0;
  return { neighbourhoodSum: local, neighbours: wsum, z, p: twoSidedP(z) };
}

/**
 * Gi* over locations 0..n−1 with values `x`; `neighbours(i)` lists the indices around i, itself
 * included, each once (indices outside the study area must not appear). No strings, no maps: the
 * hot-spot service runs it over tens of thousands of cells × buckets per request.
 */
export function giStarIndexed(x: Float64Array, neighbours: (i: number) => ArrayLike<number>): GiStarIndexed[] {
  if (x.length < 3) return Array.from(x, (v) => ({ neighbourhoodSum: v, neighbours: 1, z: 0, p: 1 }));
  const m = moments(x);
  return Array.from({ length: x.length }, (_, i) => giStarAt(x, neighbours(i), m));
}

/** giStarIndexed, yielding the event loop whenever `slice` says the budget is used (server requests). */
export async function giStarIndexedSliced(
  x: Float64Array,
  neighbours: (i: number) => ArrayLike<number>,
  slice: { due(): boolean; pause(): Promise<void> },
): Promise<GiStarIndexed[]> {
  if (x.length < 3) return giStarIndexed(x, neighbours);
  const m = moments(x);
  const out = new Array<GiStarIndexed>(x.length);
  for (let i = 0; i < x.length; i++) {
    out[i] = giStarAt(x, neighbours(i), m);
    if (slice.due()) await slice.pause();
  }
  return out;
}

/**
 * Gi* for every key in `values` (the study area). `neighbours(key)` returns the keys around it,
 * itself included; keys outside the study area are ignored.
 */
export function getisOrdGiStar(values: ReadonlyMap<string, number>, neighbours: (key: string) => readonly string[]): GiStar[] {
  const keys = [...values.keys()];
  const index = new Map(keys.map((k, i) => [k, i]));
  const x = Float64Array.from(keys, (k) => values.get(k)!);
  const stats = giStarIndexed(x, (i) => {
    const around = new Set<number>();
    for (const j of neighbours(keys[i]!)) {
      const at = index.get(j);
      if (at !== undefined) around.add(at);
    }
    return [...around];
  });
  return stats.map((st, i) => ({ key: keys[i]!, value: x[i]!, ...st }));
}

/** Two-sided p-value of a standard normal z. */
export function twoSidedP(z: number): number {
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/**
 * Complementary error function (Numerical Recipes' Chebyshev fit, |relative error| < 1.2e-7),
 * accurate far into the tail, which p-values of large z need.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Benjamini–Hochberg: which p-values are discoveries at false discovery rate `q`. */
export function benjaminiHochberg(ps: readonly number[], q: number): boolean[] {
  const order = ps.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const m = ps.length;
  let cutoff = -1;
  order.forEach(([p], rank) => {
    if (p <= ((rank + 1) / m) * q) cutoff = rank;
  });
  const out = new Array<boolean>(m).fill(false);
  for (let r = 0; r <= cutoff; r++) out[order[r]![1]] = true;
  return out;
}
