/**
 * Next-token choice: greedy (temperature 0) or nucleus (top-p) sampling at a temperature, drawing
 * from a seeded PRNG so that the same seed, prompt and options give the same reply.
 */

/** mulberry32: a small, fast 32-bit PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

export interface SamplingOptions {
  /** 0 (or less): greedy. */
  readonly temperature: number;
  /** Keep the most likely tokens whose probabilities add up to top_p (0 < top_p <= 1). */
  readonly topP: number;
}

export function pickToken(logits: Float32Array, opts: SamplingOptions, random: () => number): number {
  if (!(opts.temperature > 0)) return argmax(logits);
  const max = logits[argmax(logits)]!;
  const probs = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    probs[i] = Math.exp((logits[i]! - max) / opts.temperature);
    sum += probs[i]!;
  }
  if (opts.topP >= 1) return draw(probs, Array.from(probs.keys()), sum, random);
  // Sorting a 50k-150k vocabulary every step is slow: sort the likely tokens first (the nucleus
  // is made of the most likely tokens, so it is exact whenever they hold top_p of the mass).
  for (const floor of [1e-4, 0]) {
    const candidates: number[] = [];
    for (let i = 0; i < probs.length; i++) if (probs[i]! >= floor) candidates.push(i);
    candidates.sort((a, b) => probs[b]! - probs[a]! || a - b);
    let kept = 0;
    let mass = 0;
    while (kept < candidates.length && (kept === 0 || mass < opts.topP * sum)) mass += probs[candidates[kept++]!]!;
    if (mass >= opts.topP * sum || floor === 0) return draw(probs, candidates.slice(0, kept), mass, random);
  }
  return argmax(logits); // not reached: the floor-0 pass always returns
}

/** Draws one of `ids` with probability proportional to probs[id] (`mass` is their sum). */
function draw(probs: Float64Array, ids: readonly number[], mass: number, random: () => number): number {
  let r = random() * mass;
  for (const id of ids) {
    r -= probs[id]!;
    if (r < 0) return id;
  }
  return ids[ids.length - 1]!;
}
