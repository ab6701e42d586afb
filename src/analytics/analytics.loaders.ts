/** Per-request DataLoaders for analytics: the users of one request share one round of profile queries. */
import DataLoader from 'dataloader';
import type { AnalyticsService } from './analytics.service';
import type { UserProfileData } from './profile.service';

export interface AnalyticsLoaders {
  /** Keyed by user id. */
  readonly userProfile: DataLoader<string, UserProfileData>;
}

export function createAnalyticsLoaders(s: { analytics: AnalyticsService }): AnalyticsLoaders {
  return {
    userProfile: new DataLoader((ids: readonly string[]) => s.analytics.profile.profiles(ids, null), { maxBatchSize: 500 }),
  };
}
