/** Every analytics resolver, registered in src/graphql/schema.ts as one list entry. */
import { AnalyticsResolver } from './aggregate.resolver';
import { ProfileResolver } from './profile.resolver';
import { SeriesResolver } from './series.resolver';

export const analyticsResolvers = [AnalyticsResolver, SeriesResolver, ProfileResolver] as const;
