/** User.behaviorPrediction and BehaviorPrediction.purchaseProbability. Thin: loaders and one service call. */
import { Arg, Authorized, Ctx, FieldResolver, Float, Resolver, Root } from 'type-graphql';
import { Rule } from '../auth/auth-checker';
import type { UserEntity } from '../catalog/user.entity';
import { User } from '../catalog/catalog.types';
import type { Context } from '../graphql/context';
import type { BehaviorPredictionData } from './behavior-prediction.service';
import { BehaviorPrediction } from './predict.types';

@Resolver(() => User)
export class UserPredictionResolver {
  @Authorized(Rule.SELF)
  @FieldResolver(() => BehaviorPrediction, { description: 'Next action and purchase probabilities (behavior model).' })
  async behaviorPrediction(
    @Root() u: UserEntity,
    @Ctx() ctx: Context,
    @Arg('at', () => Date, { nullable: true, description: 'Predict as of this time (history up to it). Defaults to now.' }) at?: Date,
  ): Promise<BehaviorPredictionData> {
    return ctx.loaders.behaviorPrediction(at ? at.toISOString() : null).load(u.id);
  }
}

@Resolver(() => BehaviorPrediction)
export class BehaviorPredictionResolver {
  @FieldResolver(() => Float, {
    description:
      'P(a purchase within horizonDays), (0, 365]. Between the model horizons the purchase hazard is constant ' +
      '(log-survival interpolated linearly); past the last horizon the last hazard continues.',
  })
  purchaseProbability(@Root() p: BehaviorPredictionData, @Ctx() ctx: Context, @Arg('horizonDays', () => Float) horizonDays: number): number {
    return ctx.services.predictions.purchaseProbability(p, horizonDays);
  }
}
