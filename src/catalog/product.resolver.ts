import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { pageSize } from '../common/pagination';
import { Rule } from '../auth/auth-checker';
import type { Context } from '../graphql/context';
import { toConnection } from '../graphql/connection';
import { ProductFilter, ProductInput } from './catalog.inputs';
import { Category, Product, ProductConnection, RatingSummary, Review } from './catalog.types';
import type { ProductEntity } from './product.entity';

@Resolver(() => Product)
export class ProductResolver {
  @Authorized()
  @Query(() => ProductConnection, { description: 'Products ordered by id, filtered.' })
  async products(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1–100. Defaults to 20.' }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('filter', () => ProductFilter, { nullable: true }) filter?: ProductFilter,
  ) {
    return toConnection(await ctx.services.products.list(filter ?? {}, { first, after }));
  }

  @Authorized()
  @Query(() => Product)
  async product(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<ProductEntity> {
    return ctx.services.products.get(id);
  }

  @Authorized()
  @Query(() => [Category])
  async categories(@Ctx() ctx: Context) {
    return ctx.services.products.categories();
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => [Product], { description: 'Insert or update products by externalId (at most 250).' })
  async upsertProducts(@Ctx() ctx: Context, @Arg('products', () => [ProductInput]) products: ProductInput[]) {
    return ctx.services.products.upsert(products);
  }

  @FieldResolver(() => Category, { nullable: true })
  async category(@Root() p: ProductEntity, @Ctx() ctx: Context) {
    return p.categoryId ? ctx.loaders.category.load(p.categoryId) : null;
  }

  @FieldResolver(() => [Review], { description: 'Newest reviews first.' })
  async reviews(
    @Root() p: ProductEntity,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, defaultValue: 5 }) first: number,
  ) {
    return ctx.loaders.productReviews(pageSize(first)).load(p.id);
  }

  @FieldResolver(() => RatingSummary)
  async ratingSummary(@Root() p: ProductEntity, @Ctx() ctx: Context) {
    return ctx.loaders.ratingSummary.load(p.id);
  }
}
