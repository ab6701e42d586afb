/** Per-request DataLoaders for predictions: the users of one request share one query and one model run. */
import DataLoader from 'dataloader';
import { perArgument } from '../graphql/loader-utils';
import type { BehaviorPredictionData, BehaviorPredictionService } from './behavior-prediction.service';

export interface PredictLoaders {
  /** Keyed by user id, per `at` (ISO string; null = the request's now). */
  readonly behaviorPrediction: (at: string | null) => DataLoader<string, BehaviorPredictionData>;
}

export function createPredictLoaders(s: { predictions: BehaviorPredictionService }): PredictLoaders {
  // One "now" per request, so every user of a request is predicted at the same instant.
  const now = new Date();
  return {
    behaviorPrediction: perArgument((at: string | null) =>
      // predictMany answers NotFoundError in place of an unknown user: DataLoader rejects just that key.
      new DataLoader<string, BehaviorPredictionData>((ids) => s.predictions.predictMany(ids, at ? new Date(at) : now), { maxBatchSize: 1000 }),
    ),
  };
}
