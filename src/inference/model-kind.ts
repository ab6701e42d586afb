/**
 * The model kinds the trainer produces and the server serves (trainer/README.md "Serving contract").
 * The runtime knows only their names: each model-backed domain declares its kind's manifest and
 * assets in ModelTypes (by module augmentation, e.g. recommend/next-item.kind.ts) and registers a
 * KindSpec (inference/kind-spec.ts) where the services are composed (src/services.ts).
 */
export const MODEL_KINDS = ['next-item', 'behavior', 'sentiment', 'intent'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export function isModelKind(s: string): s is ModelKind {
  return (MODEL_KINDS as readonly string[]).includes(s);
}

/**
 * Per kind, the parsed manifest and the assets read beside model.onnx. Filled in by the domains:
 * `declare module '../inference/model-kind' { interface ModelTypes { 'next-item': { manifest: …; assets: … } } }`.
 * A kind of MODEL_KINDS missing here fails to compile wherever a LoadedModel of it is used.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by module augmentation
export interface ModelTypes {}

export type ManifestOf<K extends ModelKind> = K extends keyof ModelTypes ? ModelTypes[K] extends { manifest: infer M } ? M : never : never;
export type AssetsOf<K extends ModelKind> = K extends keyof ModelTypes ? ModelTypes[K] extends { assets: infer A } ? A : never : never;

export const MODEL_STATUSES = ['candidate', 'active', 'archived'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];
