/**
 * User.profile. Batched: one DataLoader per request (kept in a WeakMap on the request context, so
 * it dies with the request and is never shared between requests); N users cost one round of
 * queries, not N.
 */
import DataLoader from 'dataloader';
import { Authorized, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Rule } from '../auth/auth-checker';
import { User } from '../catalog/catalog.types';
import type { UserEntity } from '../catalog/user.entity';
import type { Context } from '../graphql/context';
import { UserProfile } from './analytics.types';
import type { UserProfileData } from './profile.service';

const loaders = new WeakMap<Context, DataLoader<string, UserProfileData>>();

export function profileLoader(ctx: Context): DataLoader<string, UserProfileData> {
  let l = loaders.get(ctx);
  if (!l) {
    l = new DataLoader((ids: readonly string[]) => ctx.services.analytics.profile.profiles(ids, null), { maxBatchSize: 500 });
    loaders.set(ctx, l);
  }
  return l;
}

@Resolver(() => User)
export class ProfileResolver {
  @Authorized(Rule.SELF)
  @FieldResolver(() => UserProfile, { description: 'Behaviour profile: RFM segment, categories, hours, places, price sensitivity.' })
  async profile(@Root() user: UserEntity, @Ctx() ctx: Context) {
    return profileLoader(ctx).load(user.id);
  }
}
