/** User.recommendations, Product.similar and Query.trending. Thin: unpack arguments, one loader or service call. */
import { Arg, Authorized, Ctx, FieldResolver, Float, Int, Query, Resolver, Root } from 'type-graphql';
import { Rule } from '../auth/auth-checker';
import { Product, User } from '../catalog/catalog.types';
import type { ProductEntity } from '../catalog/product.entity';
import type { UserEntity } from '../catalog/user.entity';
import type { Context } from '../graphql/context';
import { GeoPointInput } from '../graphql/geo.input';
import type { RecommendationData } from './recommendation.service';
import { Recommendation, RecommendationFilter, SimilarProduct, TrendingProduct, TrendingWindow } from './recommend.types';
import type { TrendingProductData, TrendingWindowName } from './trending.service';

@Resolver(() => User)
export class UserRecommendationResolver {
  @Authorized(Rule.SELF)
  @FieldResolver(() => [Recommendation], {
    description:
      'Personal recommendations: sequential-model, similar-item and nearby-popular candidates re-ranked with local ' +
      'activity, hour of week, review sentiment and business rules. Users without events get local popularity.',
  })
  async recommendations(
    @Root() u: UserEntity,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, description: '1–100. Defaults to 10.' }) first?: number,
    @Arg('near', () => GeoPointInput, { nullable: true, description: "Where the user is; defaults to the last event's location, then home." })
    near?: GeoPointInput,
    @Arg('at', () => Date, { nullable: true, description: 'When; defaults to now (hour of week, history up to then).' }) at?: Date,
    @Arg('filter', () => RecommendationFilter, { nullable: true }) filter?: RecommendationFilter,
  ): Promise<RecommendationData[]> {
    return ctx.loaders.recommendations({ first, near, at, filter }).load(u.id);
  }
}

@Resolver(() => Product)
export class ProductSimilarityResolver {
  @FieldResolver(() => [SimilarProduct], {
    description: "Most similar products by cosine of the next-item model's item embeddings; empty for items the model does not know.",
  })
  async similar(
    @Root() p: ProductEntity,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, defaultValue: 10, description: '1–100.' }) first: number,
  ) {
    return ctx.loaders.similarProducts(first).load(p.id);
  }
}

@Resolver(() => TrendingProduct)
export class TrendingResolver {
  @Query(() => [TrendingProduct], {
    description: 'Products with the most weighted activity near a point in the trailing window. For keys other than admin: only products with at least k distinct users (MERIDIAN_K_ANONYMITY), the window ends on a whole hour and the centre snaps to a 0.01° grid (docs/privacy.md).',
  })
  async trending(
    @Ctx() ctx: Context,
    @Arg('near', () => GeoPointInput) near: GeoPointInput,
    @Arg('radiusKm', () => Float, { nullable: true, description: '(0, 500]. Defaults to 5.' }) radiusKm?: number,
    @Arg('window', () => TrendingWindow, { nullable: true, description: 'Defaults to WEEK.' }) window?: TrendingWindowName,
    @Arg('first', () => Int, { nullable: true, description: '1–100. Defaults to 10.' }) first?: number,
    @Arg('at', () => Date, { nullable: true, description: 'End of the window; defaults to now.' }) at?: Date,
  ): Promise<TrendingProductData[]> {
    const trending = ctx.services.trending;
    return trending.trending({ near, radiusKm, window, first, at }, trending.privacyFor(ctx.principal.role));
  }
}
