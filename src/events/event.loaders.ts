/** Per-request DataLoaders for behaviour events. */
import type DataLoader from 'dataloader';
import { byKeyLoader, perArgument } from '../graphql/loader-utils';
import type { EventEntity } from './event.entity';
import type { EventService } from './event.service';

export interface EventLoaders {
  readonly recentEvents: (limit: number) => DataLoader<string, EventEntity[]>;
}

export function createEventLoaders(s: { events: EventService }): EventLoaders {
  return {
    recentEvents: perArgument((limit: number) => byKeyLoader((ids) => s.events.recentByUsers(ids, limit))),
  };
}
