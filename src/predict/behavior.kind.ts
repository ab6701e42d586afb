/**
 * The behavior model kind, as the prediction domain registers it with the model runtime: its
 * manifest fields, the refusal of features or actions the server cannot compute or express, and
 * the sample-output invariants (one probability per action summing to one, one per horizon).
 */
import type { KindSpec } from '../inference/kind-spec';
import { arr, ManifestError, num, obj, posInt, strings, type CommonManifest } from '../inference/manifest';
import { rowsSumToOne, VerificationError } from '../inference/artifact-verifier';
import { KNOWN_PROFILE_FEATURES } from './behavior-features';

export interface BehaviorManifest extends CommonManifest {
  readonly kind: 'behavior';
  readonly actions: readonly string[];
  readonly horizonsDays: readonly number[];
  readonly maxLen: number;
  readonly eventTypeIndex: Readonly<Record<string, number>>;
  readonly profileFeatures: readonly string[];
}

declare module '../inference/model-kind' {
  interface ModelTypes {
    behavior: { manifest: BehaviorManifest; assets: { readonly kind: 'behavior' } };
  }
}

const API_ACTIONS = ['view', 'cart', 'purchase', 'leave'];
const EVENT_TYPES = ['view', 'search', 'cart', 'purchase', 'favorite'];

export const behaviorKind: KindSpec<'behavior'> = {
  kind: 'behavior',
  requiredFiles: [],
  parse(m, common) {
    const idx = obj(m.event_type_index, 'event_type_index');
    const eventTypeIndex: Record<string, number> = {};
    for (const [t, i] of Object.entries(idx)) eventTypeIndex[t] = posInt(i, `event_type_index.${t}`);
    const horizonsDays = arr(m.horizons_days, 'horizons_days').map((h, i) => num(h, `horizons_days[${i}]`));
    if (horizonsDays.length === 0 || horizonsDays.some((h, i) => h <= 0 || (i > 0 && h <= horizonsDays[i - 1]!))) {
      throw new ManifestError('horizons_days must be positive and strictly increasing');
    }
    return {
      ...common,
      kind: 'behavior',
      actions: strings(m.actions, 'actions'),
      horizonsDays,
      maxLen: posInt(m.max_len, 'max_len'),
      eventTypeIndex,
      profileFeatures: strings(m.profile_features, 'profile_features'),
    };
  },
  check(manifest) {
    const unknown = manifest.profileFeatures.filter((f) => !KNOWN_PROFILE_FEATURES.includes(f));
    if (unknown.length) throw new VerificationError(`profile_features the server cannot compute: ${unknown.join(', ')}`);
    const unknownActions = manifest.actions.filter((a) => !API_ACTIONS.includes(a));
    if (unknownActions.length) throw new VerificationError(`actions the API cannot express: ${unknownActions.join(', ')}`);
    const types = Object.keys(manifest.eventTypeIndex);
    if (!EVENT_TYPES.every((t) => types.includes(t))) {
      throw new VerificationError('event_type_index must map view, search, cart, purchase and favorite');
    }
  },
  loadAssets() {
    return { kind: 'behavior' };
  },
  checkSample(manifest, outputs) {
    if (outputs.next_action?.dims[1] !== manifest.actions.length) throw new VerificationError('next_action width differs from manifest.actions');
    if (outputs.purchase_within?.dims[1] !== manifest.horizonsDays.length) {
      throw new VerificationError('purchase_within width differs from manifest.horizons_days');
    }
    rowsSumToOne(outputs, 'next_action');
  },
};
