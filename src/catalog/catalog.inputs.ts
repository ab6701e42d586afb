/** GraphQL input types of the catalog (filters and upserts). */
import { Field, Float, ID, InputType, Int } from 'type-graphql';
import { BoundingBoxInput, GeoPointInput, PriceRangeInput, RadiusInput, TimeRangeInput } from '../graphql/geo.input';
import { JSONObjectScalar } from '../graphql/scalars';

@InputType()
export class ProductFilter {
  @Field(() => [ID], { nullable: true }) categoryIds?: string[];
  @Field(() => [String], { nullable: true }) categoryNames?: string[];
  @Field(() => PriceRangeInput, { nullable: true }) price?: PriceRangeInput;
  @Field({ nullable: true, description: 'Words that must all appear in the name or description.' }) text?: string;
  @Field(() => RadiusInput, { nullable: true, description: 'Seller within a radius.' }) near?: RadiusInput;
  @Field(() => BoundingBoxInput, { nullable: true, description: 'Seller within a box.' }) within?: BoundingBoxInput;
  @Field(() => TimeRangeInput, { nullable: true }) createdAt?: TimeRangeInput;
  @Field({ nullable: true }) inStock?: boolean;
}

@InputType()
export class UserFilter {
  @Field({ nullable: true, description: 'Matches part of the name, or the exact externalId.' }) text?: string;
  @Field(() => RadiusInput, { nullable: true, description: 'Home within a radius.' }) near?: RadiusInput;
  @Field(() => BoundingBoxInput, { nullable: true }) within?: BoundingBoxInput;
  @Field(() => TimeRangeInput, { nullable: true }) createdAt?: TimeRangeInput;
}

@InputType()
export class ReviewFilter {
  @Field(() => ID, { nullable: true }) productId?: string;
  @Field(() => ID, { nullable: true }) userId?: string;
  @Field(() => Int, { nullable: true }) minRating?: number;
  @Field(() => Int, { nullable: true }) maxRating?: number;
  @Field({ nullable: true }) text?: string;
  @Field(() => TimeRangeInput, { nullable: true }) createdAt?: TimeRangeInput;
}

@InputType()
export class ProductInput {
  @Field({ description: "The platform's own id; the upsert key." }) externalId!: string;
  @Field() name!: string;
  @Field({ nullable: true }) description?: string;
  @Field(() => Float) price!: number;
  @Field(() => Int, { nullable: true }) stock?: number;
  @Field({ nullable: true, description: 'Category name; created when new.' }) category?: string;
  @Field(() => GeoPointInput, { nullable: true, description: 'Seller location.' }) location?: GeoPointInput;
  @Field(() => JSONObjectScalar, { nullable: true }) attributes?: Record<string, unknown>;
}

@InputType()
export class UserInput {
  @Field({ description: "The platform's own id; the upsert key." }) externalId!: string;
  @Field({ nullable: true }) name?: string;
  @Field({ nullable: true }) email?: string;
  @Field(() => GeoPointInput, { nullable: true }) homeLocation?: GeoPointInput;
  @Field(() => JSONObjectScalar, { nullable: true }) attributes?: Record<string, unknown>;
}

@InputType()
export class ReviewInput {
  @Field(() => ID) userId!: string;
  @Field(() => ID) productId!: string;
  @Field(() => Int, { description: '1 to 5.' }) rating!: number;
  @Field({ nullable: true }) title?: string;
  @Field({ nullable: true }) body?: string;
  @Field({ nullable: true }) createdAt?: Date;
}
