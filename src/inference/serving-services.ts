/**
 * The serving part of the service container: the model registry and the services that use it.
 * Built with the other services (src/services.ts); the registry starts and stops with the app.
 */
import type { DataSource } from 'typeorm';
import { ReviewService } from '../catalog/review.service';
import type { Logger } from '../common/logger';
import type { Config } from '../config/config';
import { LabeledMessageService } from '../nlp/labeled-message.service';
import { TextClassifierService } from '../nlp/text-classifier.service';
import { BehaviorPredictionService } from '../predict/behavior-prediction.service';
import { ProductLookup } from '../recommend/product-lookup';
import { RecommendationService } from '../recommend/recommendation.service';
import { MIN_PUBLIC_RADIUS_KM } from '../common/geo';
import { TrendingService } from '../recommend/trending.service';
import { ModelRegistry } from './model-registry';

export interface ServingServices {
  readonly models: ModelRegistry;
  readonly predictions: BehaviorPredictionService;
  readonly recommendations: RecommendationService;
  readonly trending: TrendingService;
  readonly text: TextClassifierService;
  readonly labeledMessages: LabeledMessageService;
}

export function createServingServices(ds: DataSource, config: Config, logger: Logger): ServingServices {
  const models = new ModelRegistry(ds, { inference: config.inference, artifactsDir: config.modelArtifactsDir }, logger);
  const ttl = config.inference.cacheTtlMs;
  const products = new ProductLookup(ds, ttl);
  const text = new TextClassifierService(ds, models, ttl);
  return {
    models,
    predictions: new BehaviorPredictionService(ds, models),
    recommendations: new RecommendationService(ds, models, products, new ReviewService(ds), text, ttl, logger),
    trending: new TrendingService(ds, products, ttl, { minUsers: Math.max(2, config.kAnonymityMin), minRadiusKm: MIN_PUBLIC_RADIUS_KM }),
    text,
    labeledMessages: new LabeledMessageService(ds, config.ingestMaxBatch),
  };
}
