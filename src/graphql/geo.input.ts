/**
 * Shared input types: points, radii, boxes, time and price ranges.
 * Ranges are validated by the services (one validation path for GraphQL, tools and jobs),
 * which answer BAD_USER_INPUT naming the field.
 */
import { Field, Float, InputType } from 'type-graphql';

@InputType({ description: 'A WGS84 point; latitude in [-90, 90], longitude in [-180, 180].' })
export class GeoPointInput {
  @Field(() => Float) latitude!: number;
  @Field(() => Float) longitude!: number;
}

@InputType({ description: 'Everything within radiusKm of center (great-circle distance).' })
export class RadiusInput {
  @Field(() => GeoPointInput) center!: GeoPointInput;
  @Field(() => Float, { description: 'Radius in kilometres, (0, 20000].' }) radiusKm!: number;
}

@InputType({ description: 'A latitude/longitude box.' })
export class BoundingBoxInput {
  @Field(() => Float) minLatitude!: number;
  @Field(() => Float) minLongitude!: number;
  @Field(() => Float) maxLatitude!: number;
  @Field(() => Float) maxLongitude!: number;
}

@InputType({ description: 'A half-open time range [from, to).' })
export class TimeRangeInput {
  @Field(() => Date, { nullable: true }) from?: Date;
  @Field(() => Date, { nullable: true }) to?: Date;
}

@InputType()
export class PriceRangeInput {
  @Field(() => Float, { nullable: true }) min?: number;
  @Field(() => Float, { nullable: true }) max?: number;
}
