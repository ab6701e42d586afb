/** The service container: built once at start, shared by resolvers, tools, jobs and benchmarks. */
import type { DataSource } from 'typeorm';
import type { Config } from './config/config';
import type { Logger } from './common/logger';
import { ProductService } from './catalog/product.service';
import { RegionService } from './catalog/region.service';
import { ReviewService } from './catalog/review.service';
import { UserService } from './catalog/user.service';
import { EventService } from './events/event.service';
import { createServingServices, type ServingServices } from './inference/serving-services';

export interface Services extends ServingServices {
  readonly users: UserService;
  readonly products: ProductService;
  readonly reviews: ReviewService;
  readonly regions: RegionService;
  readonly events: EventService;
}

export function createServices(ds: DataSource, config: Config, logger: Logger): Services {
  return {
    users: new UserService(ds),
    products: new ProductService(ds),
    reviews: new ReviewService(ds),
    regions: new RegionService(ds),
    events: new EventService(ds, { maxBatch: config.ingestMaxBatch, futureSkewSeconds: config.futureSkewSeconds }),
    ...createServingServices(ds, config, logger),
  };
}
