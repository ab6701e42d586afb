/** GraphQL types of recommendations, similar items and trending products. */
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Product } from '../catalog/catalog.types';
import { PriceRangeInput } from '../graphql/geo.input';
import type { ProductEntity } from '../catalog/product.entity';
import type { RecommendationSource as SourceName } from './recommendation.service';
import type { TrendingWindowName } from './trending.service';

export const RecommendationSource = { SEQUENTIAL: 'sequential', SIMILAR: 'similar', AREA: 'area' } as const satisfies Record<
  string,
  SourceName
>;
registerEnumType(RecommendationSource, {
  name: 'RecommendationSource',
  description: 'Where a candidate came from: the sequential model, item similarity, or popularity around the location.',
});

export const TrendingWindow = { DAY: 'DAY', WEEK: 'WEEK', MONTH: 'MONTH' } as const satisfies Record<string, TrendingWindowName>;
registerEnumType(TrendingWindow, { name: 'TrendingWindow', description: 'The trailing window: 1, 7 or 30 days.' });

@InputType({ description: 'Business rules applied to recommendations.' })
export class RecommendationFilter {
  @Field(() => [String], { nullable: true, description: 'Category ids or names; only these categories.' }) categories?: string[];
  @Field(() => PriceRangeInput, { nullable: true }) priceRange?: PriceRangeInput;
  @Field({ nullable: true, description: 'Only products with stock > 0. Otherwise out-of-stock items are ranked lower.' })
  inStockOnly?: boolean;
  @Field({ nullable: true, description: 'Leave out products the user bought. Otherwise they are ranked lower.' })
  excludePurchased?: boolean;
  @Field(() => [ID], { nullable: true }) excludeProductIds?: string[];
}

@ObjectType()
export class Recommendation {
  @Field(() => Product) product!: ProductEntity;
  @Field(() => Float, { description: 'Re-ranking score (docs/serving.md); higher is better, comparable within one list.' })
  score!: number;
  @Field({ description: 'The strongest reason, human-readable.' }) reason!: string;
  @Field(() => [String], { description: 'Every reason that applies, strongest first.' }) reasons!: string[];
  @Field(() => [RecommendationSource]) sources!: SourceName[];
}

@ObjectType()
export class SimilarProduct {
  @Field(() => Product) product!: ProductEntity;
  @Field(() => Float, { description: 'Cosine similarity of item embeddings, -1..1.' }) similarity!: number;
}

@ObjectType()
export class TrendingProduct {
  @Field(() => Product) product!: ProductEntity;
  @Field(() => Float, { description: 'Weighted activity in the window: view 1, favorite 2, cart 3, purchase 5.' }) score!: number;
  @Field(() => Int) events!: number;
  @Field(() => Int) purchases!: number;
  @Field(() => Int, { description: 'Distinct users.' }) users!: number;
  @Field(() => Float, { nullable: true, description: 'Relative change of score against the previous window; null if it had none.' })
  change!: number | null;
}
