/** Builds the executable schema from every resolver. The emitted SDL is checked in at schema/schema.graphql. */
import 'reflect-metadata';
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema, type NonEmptyArray, type PubSub } from 'type-graphql';
import { authChecker } from '../auth/auth-checker';
import { AuthResolver } from '../auth/auth.resolver';
import { ProductResolver } from '../catalog/product.resolver';
import { RegionResolver } from '../catalog/region.resolver';
import { ReviewResolver } from '../catalog/review.resolver';
import { UserResolver } from '../catalog/user.resolver';
import { EventResolver } from '../events/event.resolver';
import { servingResolvers } from '../inference/serving.resolvers';
import { ModelVersionResolver } from '../jobs/model-version.resolver';
import { TrainingJobResolver } from '../jobs/training-job.resolver';
import { DateTimeScalar } from './scalars';
import { analyticsResolvers } from '../analytics/analytics.resolvers';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- type-graphql's resolver list type
export const resolvers: NonEmptyArray<Function> = [
  ProductResolver,
  UserResolver,
  ReviewResolver,
  EventResolver,
  RegionResolver,
  ...servingResolvers,
  AuthResolver,
  TrainingJobResolver,
  ModelVersionResolver,
  ...analyticsResolvers,
];

/**
 * type-graphql refuses to build subscriptions without a PubSub, but Meridian's subscriptions bring
 * their own `subscribe` (e.g. trainingJobProgress reads the job row), so topics are never used.
 */
const noTopics: PubSub = {
  publish() {},
  subscribe() {
    throw new Error('topic subscriptions are not used: give @Subscription a subscribe function');
  },
};

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

export function printSortedSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
