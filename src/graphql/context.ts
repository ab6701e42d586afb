/** The per-request GraphQL context: services, fresh DataLoaders, request id, logger (built in src/api.ts). */
import type { Loaders } from '../api';
import type { Principal } from '../auth/principal';
import type { Logger } from '../common/logger';
import type { Services } from '../services';

export interface Context {
  readonly requestId: string;
  readonly services: Services;
  /** Created per request; never shared across requests (it would leak data between users). */
  readonly loaders: Loaders;
  readonly logger: Logger;
  /** The authenticated caller (API key); every request has one. */
  readonly principal: Principal;
}
