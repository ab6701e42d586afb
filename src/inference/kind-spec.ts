/**
 * What a model-backed domain tells the runtime about its kind: how to read the kind's manifest
 * fields, which files beside model.onnx the server needs and how to load them, what the server
 * can or cannot serve, and what a sane sample output looks like. The runtime runs these at
 * verification (artifact-verifier.ts) and hands the results to the domain with each lease
 * (`ModelRegistry.use`), typed by kind.
 */
import type { CommonManifest, Json } from './manifest';
import type { AssetsOf, ManifestOf, ModelKind } from './model-kind';
import type { Feeds } from './tensor';

export interface KindSpec<K extends ModelKind> {
  readonly kind: K;
  /** Roles in the manifest's `files` the server reads: listed but missing is a refusal. */
  readonly requiredFiles: readonly string[];
  /** The kind's own manifest fields (throw ManifestError naming the field). */
  parse(raw: Json, common: CommonManifest): ManifestOf<K>;
  /** Refuses what the server cannot serve, e.g. features it cannot compute (throw with the reason). */
  check?(manifest: ManifestOf<K>): void;
  /** Reads the files beside model.onnx into what feature builders use (throw with the reason). */
  loadAssets(dir: string, manifest: ManifestOf<K>): AssetsOf<K>;
  /** The kind's invariants on the verification sample's outputs (throw VerificationError). */
  checkSample(manifest: ManifestOf<K>, outputs: Feeds): void;
}

/** One spec per kind, registered with the runtime at the root. */
export type KindSpecs = { readonly [K in ModelKind]: KindSpec<K> };
