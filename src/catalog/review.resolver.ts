import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Rule } from '../auth/auth-checker';
import type { Context } from '../graphql/context';
import { toConnection } from '../graphql/connection';
import { ReviewFilter, ReviewInput } from './catalog.inputs';
import { Product, Review, ReviewConnection, User } from './catalog.types';
import type { ReviewEntity } from './review.entity';

@Resolver(() => Review)
export class ReviewResolver {
  @Authorized(Rule.PUBLIC_UNLESS_USER)
  @Query(() => ReviewConnection, { description: 'Reviews ordered by id, filtered.' })
  async reviews(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1–100. Defaults to 20.' }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('filter', () => ReviewFilter, { nullable: true }) filter?: ReviewFilter,
  ) {
    return toConnection(await ctx.services.reviews.list(filter ?? {}, { first, after }));
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => [Review], { description: 'One review per user and product; resubmitting replaces it (at most 250).' })
  async submitReviews(@Ctx() ctx: Context, @Arg('reviews', () => [ReviewInput]) reviews: ReviewInput[]) {
    return ctx.services.reviews.submit(reviews);
  }

  @Authorized(Rule.SELF)
  @FieldResolver(() => User, { nullable: true })
  async user(@Root() r: ReviewEntity, @Ctx() ctx: Context) {
    return ctx.loaders.user.load(r.userId);
  }

  @Authorized()
  @FieldResolver(() => Product, { nullable: true })
  async product(@Root() r: ReviewEntity, @Ctx() ctx: Context) {
    return ctx.loaders.product.load(r.productId);
  }
}
