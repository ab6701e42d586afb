import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { pageSize } from '../common/pagination';
import { Event } from '../events/event.types';
import { Rule } from '../auth/auth-checker';
import type { Context } from '../graphql/context';
import { toConnection } from '../graphql/connection';
import { UserFilter, UserInput } from './catalog.inputs';
import { Review, User, UserConnection } from './catalog.types';
import type { UserEntity } from './user.entity';

@Resolver(() => User)
export class UserResolver {
  @Authorized(Rule.ADMIN)
  @Query(() => UserConnection, { description: 'Users ordered by id, filtered.' })
  async users(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1–100. Defaults to 20.' }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('filter', () => UserFilter, { nullable: true }) filter?: UserFilter,
  ) {
    return toConnection(await ctx.services.users.list(filter ?? {}, { first, after }));
  }

  @Authorized(Rule.SELF)
  @Query(() => User, { description: 'Admins: any user. Frontend keys: their own user only.' })
  async user(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<UserEntity> {
    return ctx.services.users.get(id);
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => [User], { description: 'Insert or update users by externalId (at most 250).' })
  async upsertUsers(@Ctx() ctx: Context, @Arg('users', () => [UserInput]) users: UserInput[]) {
    return ctx.services.users.upsert(users);
  }

  @Authorized(Rule.SELF)
  @FieldResolver(() => [Event], { description: 'Newest events first.' })
  async recentEvents(
    @Root() u: UserEntity,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, defaultValue: 10 }) first: number,
  ) {
    return ctx.loaders.recentEvents(pageSize(first)).load(u.id);
  }

  @Authorized(Rule.SELF)
  @FieldResolver(() => [Review], { description: 'Newest reviews first.' })
  async reviews(
    @Root() u: UserEntity,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, defaultValue: 10 }) first: number,
  ) {
    return ctx.loaders.userReviews(pageSize(first)).load(u.id);
  }
}
