/**
 * The service container, composed at the root: every service is built here, once, and shared by
 * resolvers (src/api.ts), tools, jobs and benchmarks. Cross-domain needs are ports wired here:
 * ingestion folds events into the analytics rollups (events/event.writer.ts InsertFold), erasure
 * reaches analytics and the audit log (privacy/erasure-registry.ts ErasurePart) and clears every
 * cache that may hold a user's data, and each model-backed domain registers its model kind with
 * the runtime (inference/kind-spec.ts).
 */
import type { DataSource } from 'typeorm';
import { analyticsErasure } from './analytics/analytics.erasure';
import { Assistant } from './assistant/assistant';
import { assistantErasure } from './assistant/assistant.erasure';
import { ConversationService } from './assistant/conversation.service';
import { FactReader } from './assistant/facts';
import { OrderReader } from './assistant/order.reader';
import { PolicyAnswerService } from './assistant/policy-answer.service';
import { ShipmentService } from './assistant/shipment.service';
import { AnalyticsService } from './analytics/analytics.service';
import { rollupFold } from './analytics/rollup';
import { ApiKeyService } from './auth/api-key.service';
import { AuditService, auditErasure } from './auth/audit.service';
import { ProductService } from './catalog/product.service';
import { RegionService } from './catalog/region.service';
import { ReviewService } from './catalog/review.service';
import { UserService } from './catalog/user.service';
import { MIN_PUBLIC_RADIUS_KM } from './common/geo';
import type { Logger } from './common/logger';
import type { Config } from './config/config';
import { EventService } from './events/event.service';
import type { KindSpecs } from './inference/kind-spec';
import { createModelFiles } from './inference/model-files';
import { ModelRegistry } from './inference/model-registry';
import { TrainingJobService } from './jobs/training-job.service';
import { LabeledMessageService } from './nlp/labeled-message.service';
import { TextClassifierService } from './nlp/text-classifier.service';
import { textKind } from './nlp/text.kind';
import { BehaviorPredictionService } from './predict/behavior-prediction.service';
import { behaviorKind } from './predict/behavior.kind';
import { erasureRegistry } from './privacy/erasure-registry';
import { PrivacyService } from './privacy/privacy.service';
import { nextItemKind } from './recommend/next-item.kind';
import { RecommendationService } from './recommend/recommendation.service';
import { TrendingService } from './recommend/trending.service';
import { PersistedOperationService } from './security/persisted-operation.service';

export type Services = ReturnType<typeof createServices>;

/** The model kinds, each registered with the runtime by its domain: a new model-backed capability adds its line here. */
export const modelKinds: KindSpecs = {
  'next-item': nextItemKind,
  behavior: behaviorKind,
  sentiment: textKind('sentiment'),
  intent: textKind('intent'),
};

/** What a standalone job worker needs (src/tools/worker.ts): the registry, to verify, record and promote, and the job queue. */
export function createWorkerServices(ds: DataSource, config: Config, logger: Logger) {
  const files = createModelFiles(ds, config.modelStore, config.modelArtifactsDir);
  const models = new ModelRegistry(ds, { inference: config.inference, artifactsDir: config.modelArtifactsDir, files }, logger, modelKinds);
  const trainingJobs = new TrainingJobService(ds, models, { jobs: config.jobs }, logger.child({ component: 'jobs' }));
  return { models, trainingJobs } as const;
}

export function createServices(ds: DataSource, config: Config, logger: Logger) {
  const ttl = config.inference.cacheTtlMs;
  const apiKeys = new ApiKeyService(ds, config.security.adminKey);
  const reviews = new ReviewService(ds);
  const { models, trainingJobs } = createWorkerServices(ds, config, logger);
  const products = new ProductService(ds, ttl);
  const text = new TextClassifierService(ds, models, ttl);
  const recommendations = new RecommendationService(ds, models, products, reviews, text, ttl, logger);
  const trending = new TrendingService(ds, products, ttl, { minUsers: Math.max(2, config.kAnonymityMin), minRadiusKm: MIN_PUBLIC_RADIUS_KM });
  const privacy = new PrivacyService(ds, erasureRegistry([analyticsErasure, auditErasure, assistantErasure]), [
    // Every in-memory cache that may hold a user's credentials or aggregates over their data.
    () => apiKeys.clearCache(),
    () => trending.clearCache(),
    () => recommendations.clearCaches(),
    () => text.clearCaches(),
  ]);
  const policyAnswers = new PolicyAnswerService(ds, text);
  const assistant = new Assistant(text, new OrderReader(ds), policyAnswers, new FactReader(ds, products, reviews, text, recommendations));
  return {
    users: new UserService(ds),
    products,
    reviews,
    regions: new RegionService(ds),
    events: new EventService(ds, { maxBatch: config.ingestMaxBatch, futureSkewSeconds: config.futureSkewSeconds }, rollupFold),
    analytics: new AnalyticsService(ds, {
      kAnonymityMin: config.kAnonymityMin, dp: config.dp, concurrency: config.analyticsConcurrency, queueMs: config.analyticsQueueMs,
    }),
    models,
    predictions: new BehaviorPredictionService(ds, models),
    recommendations,
    trending,
    text,
    labeledMessages: new LabeledMessageService(ds, config.ingestMaxBatch),
    policyAnswers,
    orderShipments: new ShipmentService(ds, config.ingestMaxBatch),
    conversations: new ConversationService(ds, assistant, logger.child({ component: 'assistant' })),
    trainingJobs,
    apiKeys,
    audit: new AuditService(ds),
    persistedOperations: new PersistedOperationService(ds),
    privacy,
  } as const;
}
