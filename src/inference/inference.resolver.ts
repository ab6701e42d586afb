/** Operational view of the inference runtime (per-model latency, batch sizes, queue depth, event-loop delay). */
import { Arg, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { Rule } from '../auth/auth-checker';
import type { Context } from '../graphql/context';
import { JSONObjectScalar } from '../graphql/scalars';

@Resolver()
export class InferenceResolver {
  @Authorized(Rule.ADMIN)
  @Query(() => JSONObjectScalar, {
    description:
      'Inference runtime metrics: per model version latency and batch-size histograms, queue depth, provider; ' +
      'event-loop delay of the server process. Admins only (the same data as /metrics).',
  })
  servingMetrics(
    @Ctx() ctx: Context,
    @Arg('resetEventLoopDelay', { defaultValue: false, description: 'Start a new event-loop delay measurement after this read.' })
    resetEventLoopDelay: boolean,
  ): Record<string, unknown> {
    return { ...ctx.services.models.metrics({ resetEventLoopDelay }) };
  }
}
