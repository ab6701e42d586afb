/**
 * The model registry over GraphQL (admin only): versions of a kind, promote (atomic hot swap in
 * this process; other servers follow on its announcement, model-change-listener.ts), rollback.
 */
import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { Rule } from '../auth/auth-checker';
import type { Context } from '../graphql/context';
import type { ModelKind as Kind } from './model-kind';
import { ModelKind, ModelVersion } from './model-version.types';

@Resolver(() => ModelVersion)
export class ModelVersionResolver {
  @Authorized(Rule.ADMIN)
  @Query(() => [ModelVersion], { description: 'Every registered version of a kind, newest first.' })
  async modelVersions(@Ctx() ctx: Context, @Arg('kind', () => ModelKind) kind: Kind) {
    return ctx.services.models.list(kind);
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => ModelVersion, {
    description: 'Verify and activate a version; requests switch to it without a restart. A version that fails verification changes nothing.',
  })
  async promoteModelVersion(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return ctx.services.models.promote(id);
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => ModelVersion, { description: 'Activate the version that was active before the current one.' })
  async rollbackModel(@Ctx() ctx: Context, @Arg('kind', () => ModelKind) kind: Kind) {
    return ctx.services.models.rollback(kind);
  }
}
