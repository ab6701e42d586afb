/**
 * Colour classes of the map: five quantile classes on a colour-blind-safe sequential ramp
 * (viridis), so a few very large cells (São Paulo) do not leave every other cell one colour.
 */
export type RGB = [number, number, number];

const RAMP: RGB[] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

export interface Scale {
  /** Upper bounds of the classes, ascending; the last is the maximum. */
  readonly breaks: number[];
  readonly min: number;
  colour(value: number): RGB;
  /** The class index of a value (0 = lowest). */
  bucket(value: number): number;
}

export function quantileScale(values: number[]): Scale | null {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const classes = Math.min(RAMP.length, new Set(sorted).size);
  const breaks: number[] = [];
  for (let i = 1; i <= classes; i++) {
    const b = sorted[Math.min(sorted.length - 1, Math.ceil((i * sorted.length) / classes) - 1)]!;
    if (!breaks.includes(b)) breaks.push(b);
  }
  const colours = breaks.map((_, i) => RAMP[breaks.length === 1 ? RAMP.length - 1 : Math.round((i * (RAMP.length - 1)) / (breaks.length - 1))]!);
  const bucket = (v: number) => {
    const i = breaks.findIndex((b) => v <= b);
    return i < 0 ? breaks.length - 1 : i;
  };
  return { breaks, min: sorted[0]!, bucket, colour: (v) => colours[bucket(v)]! };
}

export function css([r, g, b]: RGB): string {
  return `rgb(${r}, ${g}, ${b})`;
}

/** Hot and cold spot outlines: dark red and dark blue, told apart by their symbols too (▲ ▼). */
export const HOT: RGB = [185, 28, 28];
export const COLD: RGB = [29, 78, 216];
export const HOT_SYMBOL = '▲';
export const COLD_SYMBOL = '▼';
