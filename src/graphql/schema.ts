/** Schema helpers of the GraphQL core; the schema itself is composed in src/api.ts. */
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import type { PubSub } from 'type-graphql';

/**
 * type-graphql refuses to build subscriptions without a PubSub, but Meridian's subscriptions bring
 * their own `subscribe` (e.g. trainingJobProgress reads the job row), so topics are never used.
 */
export const noTopics: PubSub = {
  publish() {},
  subscribe() {
    throw new Error('topic subscriptions are not used: give @Subscription a subscribe function');
  },
};

/** The SDL checked in at schema/schema.graphql. */
export function printSortedSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
