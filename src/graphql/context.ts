/** The per-request GraphQL context: services, fresh DataLoaders, request id, logger. */
import { randomUUID } from 'node:crypto';
import { type CatalogLoaders, createCatalogLoaders } from '../catalog/catalog.loaders';
import type { Principal } from '../auth/principal';
import type { Logger } from '../common/logger';
import { createEventLoaders, type EventLoaders } from '../events/event.loaders';
import { createServingLoaders, type ServingLoaders } from '../inference/serving.loaders';
import type { Services } from '../services';

export type Loaders = CatalogLoaders & EventLoaders & ServingLoaders;

export interface Context {
  readonly requestId: string;
  readonly services: Services;
  /** Created per request; never shared across requests (it would leak data between users). */
  readonly loaders: Loaders;
  readonly logger: Logger;
  /** The authenticated caller (API key); every request has one. */
  readonly principal: Principal;
}

export function createLoaders(services: Services): Loaders {
  return { ...createCatalogLoaders(services), ...createEventLoaders(services), ...createServingLoaders(services) };
}

export function createContext(services: Services, logger: Logger, principal: Principal, requestId: string = randomUUID()): Context {
  return { requestId, services, loaders: createLoaders(services), logger: logger.child({ requestId }), principal };
}
