/** User.profile. Batched by the per-request userProfile loader: N users cost one round of queries, not N. */
import { Authorized, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Rule } from '../auth/auth-checker';
import { User } from '../catalog/catalog.types';
import type { UserEntity } from '../catalog/user.entity';
import type { Context } from '../graphql/context';
import { UserProfile } from './analytics.types';

@Resolver(() => User)
export class ProfileResolver {
  @Authorized(Rule.SELF)
  @FieldResolver(() => UserProfile, { description: 'Behaviour profile: RFM segment, categories, hours, places, price sensitivity.' })
  async profile(@Root() user: UserEntity, @Ctx() ctx: Context) {
    return ctx.loaders.userProfile.load(user.id);
  }
}
