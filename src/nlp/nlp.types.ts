/** GraphQL types of text classification: review sentiment, product sentiment summaries, message intents. */
import { Field, Float, Int, ObjectType } from 'type-graphql';

@ObjectType()
export class ReviewSentiment {
  @Field({ description: 'negative or positive (the sentiment model labels).' }) label!: string;
  @Field(() => Float, { description: 'Probability of that label.' }) score!: number;
  @Field() modelVersion!: string;
}

@ObjectType({ description: "The sentiment model over a product's newest 50 reviews with text." })
export class SentimentSummary {
  @Field(() => Int) reviewCount!: number;
  @Field(() => Float, { nullable: true, description: 'Share of those reviews classified positive.' }) positiveShare!: number | null;
  @Field(() => Float, { nullable: true, description: 'Mean probability of positive.' }) meanPositive!: number | null;
  @Field() modelVersion!: string;
}

@ObjectType()
export class IntentScore {
  @Field() intent!: string;
  @Field(() => Float) confidence!: number;
}

@ObjectType({ description: 'Customer-service intent of a message (BANKING77 intents in the shipped baseline).' })
export class MessageClassification {
  @Field() intent!: string;
  @Field(() => Float) confidence!: number;
  @Field(() => [IntentScore], { description: 'The next most likely intents (up to 5), most likely first.' }) alternatives!: IntentScore[];
  @Field() modelVersion!: string;
}
