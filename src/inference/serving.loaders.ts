/** The serving DataLoaders (predictions, recommendations, text), merged into the per-request loaders. */
import { createNlpLoaders, type NlpLoaders } from '../nlp/nlp.loaders';
import { createPredictLoaders, type PredictLoaders } from '../predict/predict.loaders';
import { createRecommendLoaders, type RecommendLoaders } from '../recommend/recommend.loaders';
import type { ServingServices } from './serving-services';

export type ServingLoaders = PredictLoaders & RecommendLoaders & NlpLoaders;

export function createServingLoaders(s: ServingServices): ServingLoaders {
  return { ...createPredictLoaders(s), ...createRecommendLoaders(s), ...createNlpLoaders(s) };
}
