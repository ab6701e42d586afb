/**
 * Purchase probability for any horizon from the model's fixed horizons (e.g. 1, 3, 7, 14, 30 days).
 *
 * Rule: piecewise-constant purchase hazard. With S(h) = 1 − P(purchase within h), log S is taken
 * as linear in h between neighbouring model horizons (and from S(0) = 1 to the first one); past
 * the last horizon the last segment's hazard continues. This reproduces the model exactly at its
 * horizons, is non-decreasing in h because the model's outputs are, is 0 at h = 0 and tends to 1.
 */

/** P(purchase within h) at horizon `h` days; `horizons` increasing, `probs` non-decreasing. */
export function purchaseProbabilityAt(horizons: readonly number[], probs: readonly number[], h: number): number {
  if (horizons.length === 0 || horizons.length !== probs.length) throw new Error('horizons and probabilities must align');
  if (!(h >= 0)) throw new Error('horizon must be ≥ 0');
  if (h === 0) return 0;
  // Survival at each knot, clamped away from 0 so log stays finite and monotone (cumulative max
  // guards against float noise in the model's non-decreasing outputs).
  const eps = 1e-9;
  const logS: number[] = [];
  let maxP = 0;
  for (const p of probs) {
    maxP = Math.max(maxP, Math.min(Math.max(p, 0), 1 - eps));
    logS.push(Math.log(1 - maxP));
  }
  const xs = [0, ...horizons];
  const ys = [0, ...logS];
  let i = 1;
  while (i < xs.length - 1 && h > xs[i]!) i++;
  let y: number;
  if (h <= xs[i]!) {
    const t = (h - xs[i - 1]!) / (xs[i]! - xs[i - 1]!);
    y = ys[i - 1]! + t * (ys[i]! - ys[i - 1]!);
  } else {
    // Beyond the last horizon: continue the last segment's constant hazard.
    const k = xs.length - 1;
    const slope = (ys[k]! - ys[k - 1]!) / (xs[k]! - xs[k - 1]!);
    y = ys[k]! + slope * (h - xs[k]!);
  }
  return Math.min(1, Math.max(0, 1 - Math.exp(y)));
}
