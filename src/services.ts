/** The service container: built once at start, shared by resolvers, tools, jobs and benchmarks. */
import type { DataSource } from 'typeorm';
import type { Config } from './config/config';
import type { Logger } from './common/logger';
import { ApiKeyService } from './auth/api-key.service';
import { AuditService } from './auth/audit.service';
import { ProductService } from './catalog/product.service';
import { RegionService } from './catalog/region.service';
import { ReviewService } from './catalog/review.service';
import { UserService } from './catalog/user.service';
import { EventService } from './events/event.service';
import { createServingServices, type ServingServices } from './inference/serving-services';
import { createJobServices, type JobServices } from './jobs/job-services';
import { PrivacyService } from './privacy/privacy.service';
import { PersistedOperationService } from './security/persisted-operation.service';
import { AnalyticsService } from './analytics/analytics.service';

export interface Services extends ServingServices, JobServices {
  readonly users: UserService;
  readonly products: ProductService;
  readonly reviews: ReviewService;
  readonly regions: RegionService;
  readonly events: EventService;
  readonly apiKeys: ApiKeyService;
  readonly audit: AuditService;
  readonly persistedOperations: PersistedOperationService;
  readonly privacy: PrivacyService;
  readonly analytics: AnalyticsService;
}

export function createServices(ds: DataSource, config: Config, logger: Logger): Services {
  const apiKeys = new ApiKeyService(ds, config.security.adminKey);
  const serving = createServingServices(ds, config, logger);
  // Every in-memory cache that may hold a user's credentials or aggregates over their data:
  // deleteUser clears them once the erasure commits (the tables: privacy/erasure-registry.ts).
  const privacy = new PrivacyService(ds, [
    () => apiKeys.clearCache(),
    () => serving.trending.clearCache(),
    () => serving.recommendations.clearCaches(),
    () => serving.text.clearCaches(),
  ]);
  return {
    users: new UserService(ds),
    products: new ProductService(ds),
    reviews: new ReviewService(ds),
    regions: new RegionService(ds),
    events: new EventService(ds, { maxBatch: config.ingestMaxBatch, futureSkewSeconds: config.futureSkewSeconds }),
    ...serving,
    ...createJobServices(ds, config, logger),
    apiKeys,
    audit: new AuditService(ds),
    persistedOperations: new PersistedOperationService(ds),
    privacy,
    analytics: new AnalyticsService(ds, {
      kAnonymityMin: config.kAnonymityMin, dp: config.dp, concurrency: config.analyticsConcurrency, queueMs: config.analyticsQueueMs,
    }),
  };
}
