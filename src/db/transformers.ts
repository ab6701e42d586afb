/** Column transformers: Postgres numeric arrives as a string; we serve numbers. */
import type { ValueTransformer } from 'typeorm';

export const numericTransformer: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | null) => (v === null || v === undefined ? null : Number(v)),
};
