/**
 * The GraphQL API, composed at the root: every resolver of every domain, every per-request
 * DataLoader, the schema, and the request context. `src/graphql/` is the GraphQL core (context
 * type, connections, scalars, errors, selection look-ahead) and imports no domain; a domain's resolvers
 * and loaders reach the API only through the two lists below.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type NonEmptyArray } from 'type-graphql';
import { AnalyticsResolver } from './analytics/aggregate.resolver';
import { createAnalyticsLoaders } from './analytics/analytics.loaders';
import { createAssistantLoaders } from './assistant/assistant.loaders';
import { ConversationResolver, PolicyAnswerResolver } from './assistant/assistant.resolver';
import { ProfileResolver } from './analytics/profile.resolver';
import { SeriesResolver } from './analytics/series.resolver';
import { authChecker } from './auth/auth-checker';
import { AuthResolver } from './auth/auth.resolver';
import type { Principal } from './auth/principal';
import { createCatalogLoaders } from './catalog/catalog.loaders';
import { ProductResolver } from './catalog/product.resolver';
import { RegionResolver } from './catalog/region.resolver';
import { ReviewResolver } from './catalog/review.resolver';
import { UserResolver } from './catalog/user.resolver';
import type { Logger } from './common/logger';
import { createEventLoaders } from './events/event.loaders';
import { EventResolver } from './events/event.resolver';
import type { Context } from './graphql/context';
import { DateTimeScalar } from './graphql/scalars';
import { noTopics } from './graphql/schema';
import { InferenceResolver } from './inference/inference.resolver';
import { ModelVersionResolver } from './inference/model-version.resolver';
import { TrainingJobResolver } from './jobs/training-job.resolver';
import { LabeledMessageResolver } from './nlp/labeled-message.resolver';
import { createNlpLoaders } from './nlp/nlp.loaders';
import { MessageClassificationResolver, ProductSentimentResolver, ReviewSentimentResolver } from './nlp/nlp.resolver';
import { createPredictLoaders } from './predict/predict.loaders';
import { BehaviorPredictionResolver, UserPredictionResolver } from './predict/predict.resolver';
import { createRecommendLoaders } from './recommend/recommend.loaders';
import { ProductSimilarityResolver, TrendingResolver, UserRecommendationResolver } from './recommend/recommend.resolver';
import type { Services } from './services';

/** Every resolver (type-graphql merges the field resolvers a domain adds to another's type, e.g. User.recommendations). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- type-graphql's resolver list type
export const resolvers: NonEmptyArray<Function> = [
  ProductResolver,
  UserResolver,
  ReviewResolver,
  RegionResolver,
  EventResolver,
  AnalyticsResolver,
  SeriesResolver,
  ProfileResolver,
  UserPredictionResolver,
  BehaviorPredictionResolver,
  UserRecommendationResolver,
  ProductSimilarityResolver,
  TrendingResolver,
  ReviewSentimentResolver,
  ProductSentimentResolver,
  MessageClassificationResolver,
  LabeledMessageResolver,
  TrainingJobResolver,
  ModelVersionResolver,
  InferenceResolver,
  AuthResolver,
  ConversationResolver,
  PolicyAnswerResolver,
];

/** Every per-request DataLoader, created fresh for each request (never shared: it would leak data between users). */
export function createLoaders(s: Services) {
  return {
    ...createCatalogLoaders(s),
    ...createEventLoaders(s),
    ...createAnalyticsLoaders(s),
    ...createPredictLoaders(s),
    ...createRecommendLoaders(s),
    ...createNlpLoaders(s),
    ...createAssistantLoaders(s),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

export function createContext(services: Services, logger: Logger, principal: Principal, requestId: string = randomUUID()): Context {
  return { requestId, services, loaders: createLoaders(services), logger: logger.child({ requestId }), principal };
}

export async function createSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    authChecker,
    authMode: 'error',
    pubSub: noTopics,
    // Services validate input (one path for GraphQL, tools and jobs) and name the bad field.
    validate: false,
  });
}
