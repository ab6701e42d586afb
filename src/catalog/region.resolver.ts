import { Arg, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../graphql/context';
import { Region } from './catalog.types';

@Resolver(() => Region)
export class RegionResolver {
  @Authorized()
  @Query(() => [Region], { description: 'Named regions, optionally of one kind.' })
  async regions(@Ctx() ctx: Context, @Arg('kind', () => String, { nullable: true }) kind?: string) {
    return ctx.services.regions.list(kind);
  }
}
