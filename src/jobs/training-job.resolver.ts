/** Fine-tuning jobs over GraphQL (admin only): start, cancel, read, list, and live progress. */
import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Rule } from '../auth/auth-checker';
import { toConnection } from '../graphql/connection';
import type { Context } from '../graphql/context';
import { StartFineTuningInput, TrainingJob, TrainingJobConnection, TrainingJobFilter } from './jobs.types';
import type { TrainingJobRecord } from './training-job';

@Resolver(() => TrainingJob)
export class TrainingJobResolver {
  @Authorized(Rule.ADMIN)
  @Mutation(() => TrainingJob, {
    description: 'Queue a fine-tuning job. Hyperparameters are checked against the kind before anything is queued.',
  })
  async startFineTuning(@Ctx() ctx: Context, @Arg('input', () => StartFineTuningInput) input: StartFineTuningInput) {
    return ctx.services.trainingJobs.start(input, ctx.principal.name);
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => TrainingJob, { description: 'Cancel a job: a queued one at once, a running one within seconds (its trainer is stopped).' })
  async cancelTrainingJob(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return ctx.services.trainingJobs.cancel(id);
  }

  @Authorized(Rule.ADMIN)
  @Query(() => TrainingJob, { nullable: true })
  async trainingJob(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return ctx.services.trainingJobs.get(id);
  }

  @Authorized(Rule.ADMIN)
  @Query(() => TrainingJobConnection, { description: 'Jobs, newest first.' })
  async trainingJobs(
    @Ctx() ctx: Context,
    @Arg('filter', () => TrainingJobFilter, { nullable: true }) filter: TrainingJobFilter | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ) {
    const page = await ctx.services.trainingJobs.list({ statuses: filter?.status, kind: filter?.modelKind }, first, after);
    return toConnection(page);
  }

  @Authorized(Rule.ADMIN)
  @Subscription(() => TrainingJob, {
    description: 'The job now, then on every change (progress, stage, outcome) until it ends. Over graphql-ws at /graphql.',
    subscribe: ({ args, context }) => (context as Context).services.trainingJobs.watch(String((args as { id: string }).id)),
  })
  trainingJobProgress(@Root() job: TrainingJobRecord, @Arg('id', () => ID) _id: string): TrainingJobRecord {
    return job;
  }
}
