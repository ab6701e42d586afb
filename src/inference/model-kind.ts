/** The model kinds the trainer produces and the server serves (trainer/README.md "Serving contract"). */
export const MODEL_KINDS = ['next-item', 'behavior', 'sentiment', 'intent'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export function isModelKind(s: string): s is ModelKind {
  return (MODEL_KINDS as readonly string[]).includes(s);
}

export const MODEL_STATUSES = ['candidate', 'active', 'archived'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];
