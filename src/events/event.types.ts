/** GraphQL types of behaviour events. */
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BoundingBoxInput, GeoPointInput, RadiusInput, TimeRangeInput } from '../graphql/geo.input';
import { Connection } from '../graphql/connection';
import { GeoJSONScalar } from '../graphql/scalars';
import type { EventTypeName } from './event.entity';

export const EventType = {
  VIEW: 'view',
  SEARCH: 'search',
  CART: 'cart',
  PURCHASE: 'purchase',
  FAVORITE: 'favorite',
} as const satisfies Record<string, EventTypeName>;

registerEnumType(EventType, { name: 'EventType', description: 'What the user did.' });

@ObjectType()
export class Event {
  @Field(() => ID) id!: string;
  @Field() idempotencyKey!: string;
  @Field(() => EventType) type!: EventTypeName;
  @Field() occurredAt!: Date;
  @Field(() => GeoJSONScalar, { nullable: true }) location!: unknown;
  @Field(() => String, { nullable: true }) sessionId!: string | null;
  @Field(() => Int) quantity!: number;
  @Field(() => Float, { nullable: true, description: 'Unit price at the time of the event.' }) price!: number | null;
  @Field(() => String, { nullable: true, description: 'Search text, for SEARCH events.' }) query!: string | null;
  userId!: string;
  productId!: string | null;
}

export const EventConnection = Connection(Event, 'Event');

@InputType()
export class EventInput {
  @Field({ description: 'Unique per event; re-sending a key inserts nothing.' }) idempotencyKey!: string;
  @Field(() => ID) userId!: string;
  @Field(() => ID, { nullable: true, description: 'Required except for SEARCH.' }) productId?: string;
  @Field(() => EventType) type!: EventTypeName;
  @Field() occurredAt!: Date;
  @Field(() => GeoPointInput, { nullable: true }) location?: GeoPointInput;
  @Field({ nullable: true }) sessionId?: string;
  @Field(() => Int, { nullable: true, description: 'Defaults to 1.' }) quantity?: number;
  @Field(() => Float, { nullable: true, description: "Unit price; defaults to the product's current price." })
  price?: number;
  @Field({ nullable: true }) query?: string;
}

@InputType()
export class EventFilter {
  @Field(() => ID, { nullable: true }) userId?: string;
  @Field(() => ID, { nullable: true }) productId?: string;
  @Field(() => [EventType], { nullable: true }) types?: EventTypeName[];
  @Field({ nullable: true }) sessionId?: string;
  @Field(() => TimeRangeInput, { nullable: true }) occurredAt?: TimeRangeInput;
  @Field(() => RadiusInput, { nullable: true }) near?: RadiusInput;
  @Field(() => BoundingBoxInput, { nullable: true }) within?: BoundingBoxInput;
}

@ObjectType()
export class IngestResult {
  @Field(() => Int, { description: 'Events stored by this call.' }) accepted!: number;
  @Field(() => Int, { description: 'Events skipped because their idempotency key was already stored or came earlier in this batch (with the same content: a repeated key with other content is refused).' })
  duplicates!: number;
  @Field(() => [String], { description: 'Each skipped key once: stored before, or repeated within this batch.' })
  duplicateKeys!: string[];
}
