/**
 * GraphQL object types of the catalog. Relations (product.category, review.user, …) are
 * field resolvers in the *.resolver.ts files, batched by per-request DataLoaders.
 * Services return entities; these classes describe how they are served.
 */
import { Authorized, Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Rule } from '../auth/auth-checker';
import { GeoJSONScalar, JSONObjectScalar } from '../graphql/scalars';
import { Connection } from '../graphql/connection';

@ObjectType()
export class Category {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => String, { nullable: true }) externalId!: string | null;
  parentId!: string | null;
}

@ObjectType()
export class Product {
  @Field(() => ID) id!: string;
  @Field(() => String, { nullable: true, description: "The platform's own id." }) externalId!: string | null;
  @Field() name!: string;
  @Field() description!: string;
  @Field(() => Float) price!: number;
  @Field(() => Int) stock!: number;
  @Field(() => GeoJSONScalar, { name: 'location', nullable: true, description: 'Seller location (GeoJSON Point).' })
  sellerLocation!: unknown;
  @Field() createdAt!: Date;
  categoryId!: string | null;
}

/** Personal data: every field is for admins and the user's own frontend key only. */
@ObjectType({ description: 'An end user. Personal data: admin keys and the user\'s own frontend key only.' })
export class User {
  @Authorized(Rule.SELF) @Field(() => ID) id!: string;
  @Authorized(Rule.SELF) @Field(() => String, { nullable: true }) externalId!: string | null;
  @Authorized(Rule.SELF) @Field(() => String, { nullable: true }) name!: string | null;
  @Authorized(Rule.SELF) @Field(() => String, { nullable: true }) email!: string | null;
  @Authorized(Rule.SELF)
  @Field(() => GeoJSONScalar, { nullable: true, description: 'Home location (GeoJSON Point).' })
  homeLocation!: unknown;
  @Authorized(Rule.SELF) @Field(() => JSONObjectScalar) attributes!: Record<string, unknown>;
  @Authorized(Rule.SELF) @Field() createdAt!: Date;
}

@ObjectType()
export class Review {
  @Field(() => ID) id!: string;
  @Field(() => Int) rating!: number;
  @Field(() => String, { nullable: true }) title!: string | null;
  @Field() body!: string;
  @Field() createdAt!: Date;
  userId!: string;
  productId!: string;
}

@ObjectType()
export class RatingSummary {
  @Field(() => Int) count!: number;
  @Field(() => Float, { nullable: true }) average!: number | null;
}

@ObjectType()
export class Region {
  @Field(() => ID) id!: string;
  @Field() code!: string;
  @Field() name!: string;
  @Field() kind!: string;
  @Field(() => GeoJSONScalar, { name: 'geometry', description: 'Region outline (GeoJSON MultiPolygon).' })
  geom!: unknown;
}

export const ProductConnection = Connection(Product, 'Product');
export const UserConnection = Connection(User, 'User');
export const ReviewConnection = Connection(Review, 'Review');
