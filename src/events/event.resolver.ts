import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Product, User } from '../catalog/catalog.types';
import { Rule } from '../auth/auth-checker';
import type { Context } from '../graphql/context';
import { toConnection } from '../graphql/connection';
import type { EventEntity } from './event.entity';
import { Event, EventConnection, EventFilter, EventInput, IngestResult } from './event.types';

@Resolver(() => Event)
export class EventResolver {
  @Authorized(Rule.SELF)
  @Query(() => EventConnection, { description: 'Events, newest first, filtered.' })
  async events(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1–100. Defaults to 20.' }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('filter', () => EventFilter, { nullable: true }) filter?: EventFilter,
  ) {
    return toConnection(await ctx.services.events.list(filter ?? {}, { first, after }));
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => IngestResult, {
    description: 'Store up to 5,000 events, all or nothing; idempotent by idempotencyKey.',
  })
  async ingestEvents(@Ctx() ctx: Context, @Arg('events', () => [EventInput]) events: EventInput[]) {
    return ctx.services.events.ingest(events);
  }

  @Authorized(Rule.SELF)
  @FieldResolver(() => User, { nullable: true })
  async user(@Root() e: EventEntity, @Ctx() ctx: Context) {
    return ctx.loaders.user.load(e.userId);
  }

  @Authorized(Rule.SELF)
  @FieldResolver(() => Product, { nullable: true })
  async product(@Root() e: EventEntity, @Ctx() ctx: Context) {
    return e.productId ? ctx.loaders.product.load(e.productId) : null;
  }
}
