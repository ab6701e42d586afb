/** GraphQL types of behavior predictions. */
import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';

export const NextAction = { VIEW: 'view', CART: 'cart', PURCHASE: 'purchase', LEAVE: 'leave' } as const;
export type NextActionName = (typeof NextAction)[keyof typeof NextAction];
registerEnumType(NextAction, { name: 'NextAction', description: "The user's next action within the session gap (30 minutes), or LEAVE." });

@ObjectType()
export class ActionProbability {
  @Field(() => NextAction) action!: NextActionName;
  @Field(() => Float) probability!: number;
}

@ObjectType({ description: "The behavior model's view of a user at a point in time; features are read fresh." })
export class BehaviorPrediction {
  @Field(() => [ActionProbability], { description: 'Every action, in model order; probabilities sum to 1.' })
  nextAction!: ActionProbability[];
  @Field(() => [Float], { description: 'The horizons (days) the model predicts directly.' })
  horizonsDays!: number[];
  @Field({ description: 'The model version that made the prediction.' }) modelVersion!: string;
  @Field({ description: 'The "now" of the prediction.' }) predictedAt!: Date;
}
