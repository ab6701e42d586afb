/** GraphQL types of fine-tuning jobs (admin only); model versions: inference/model-version.types.ts. */
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../graphql/connection';
import { JSONObjectScalar } from '../graphql/scalars';
import type { ModelKind as Kind } from '../inference/model-kind';
import { ModelKind, ModelVersion } from '../inference/model-version.types';
import type { JobStatus } from './training-job';

export const TrainingJobStatus = {
  QUEUED: 'queued',
  EXPORTING: 'exporting',
  TRAINING: 'training',
  EVALUATING: 'evaluating',
  REGISTERING: 'registering',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
} as const satisfies Record<string, JobStatus>;
registerEnumType(TrainingJobStatus, {
  name: 'TrainingJobStatus',
  description: 'QUEUED → EXPORTING (data snapshot) → TRAINING → EVALUATING (against the active version) → REGISTERING → SUCCEEDED; or FAILED / CANCELLED.',
});

@ObjectType({ description: 'A fine-tuning job: its request, live progress and outcome.' })
export class TrainingJob {
  @Field(() => ID) id!: string;
  @Field(() => ModelKind, { name: 'modelKind' }) kind!: Kind;
  @Field(() => TrainingJobStatus) status!: JobStatus;
  @Field(() => Float, { description: 'From 0 to 1 across all stages (training is 0.05–0.85).' }) progress!: number;
  @Field(() => Int, { nullable: true }) epoch!: number | null;
  @Field(() => Int, { nullable: true }) step!: number | null;
  @Field(() => Int, { nullable: true, description: 'Most steps training can take (early stopping may end sooner).' })
  totalSteps!: number | null;
  @Field(() => Float, { nullable: true, description: 'Latest training loss.' }) loss!: number | null;
  @Field(() => JSONObjectScalar, {
    description: 'Latest validation metrics while training; the test metrics of the new version once trained.',
  })
  metrics!: Record<string, unknown>;
  @Field(() => Float, { nullable: true, description: "The trainer's estimate of the training time left, seconds." })
  etaSeconds!: number | null;
  @Field({ description: "The last lines of the trainer's log (stderr)." }) logTail!: string;
  @Field(() => String, { nullable: true, description: 'Why the job (or its last attempt) failed.' }) error!: string | null;
  @Field(() => ID, { nullable: true, description: 'The version it fine-tunes from; null = from scratch.' }) baseVersionId!: string | null;
  @Field(() => Date, { nullable: true, description: 'Training data: events from this time (inclusive)…' }) dataFrom!: Date | null;
  @Field({ description: '…to this time (exclusive).' }) dataTo!: Date;
  @Field(() => JSONObjectScalar, { description: 'The hyperparameter overrides it was started with.' }) hyperparameters!: Record<string, unknown>;
  @Field(() => Int) seed!: number;
  @Field() autoPromote!: boolean;
  @Field(() => String, { nullable: true }) idempotencyKey!: string | null;
  @Field(() => Int, { description: 'Attempts started so far.' }) attempts!: number;
  @Field(() => Int) maxAttempts!: number;
  @Field({ description: 'Failed after its last allowed attempt (the dead-letter state).' }) deadLettered!: boolean;
  @Field() cancelRequested!: boolean;
  @Field(() => ModelVersion, { nullable: true, description: 'The model version it registered.' }) resultVersion!: ModelVersion | null;
  @Field(() => JSONObjectScalar, {
    nullable: true,
    description:
      'The new version against the active one on the same held-out data: metric, candidate, active, delta, margin, ' +
      'beats, promoted, decision.',
  })
  comparison!: Record<string, unknown> | null;
  @Field(() => String, { nullable: true, description: 'The API key that started it.' }) createdBy!: string | null;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
  @Field() updatedAt!: Date;
}

@ObjectType()
export class TrainingJobConnection extends Connection(TrainingJob, 'TrainingJob') {}

@InputType({ description: 'Training data: events with occurredAt in [from, to).' })
export class DataWindowInput {
  @Field(() => Date, { nullable: true, description: 'Defaults to all history.' }) from?: Date | null;
  @Field(() => Date, { nullable: true, description: 'Defaults to the time of the request.' }) to?: Date | null;
}

@InputType()
export class StartFineTuningInput {
  @Field(() => ModelKind) modelKind!: Kind;
  @Field(() => ID, { nullable: true, description: "Version to fine-tune from. Defaults to the kind's active version." })
  baseVersionId?: string | null;
  @Field({ defaultValue: false, description: 'Train without a base (needed to change architecture hyperparameters).' })
  fromScratch!: boolean;
  @Field(() => DataWindowInput, { nullable: true }) dataWindow?: DataWindowInput | null;
  @Field(() => JSONObjectScalar, {
    nullable: true,
    description: "Overrides of the trainer's hyperparameters for the kind (trainer/README.md); checked before queueing.",
  })
  hyperparameters?: Record<string, unknown> | null;
  @Field({ defaultValue: false, description: 'Promote the new version if it beats the active one by the configured margin.' })
  autoPromote!: boolean;
  @Field(() => String, { nullable: true, description: 'Sending the same key again returns the job it created.' })
  idempotencyKey?: string | null;
  @Field(() => Int, { defaultValue: 0, description: 'Training and evaluation seed.' }) seed!: number;
}

@InputType()
export class TrainingJobFilter {
  @Field(() => [TrainingJobStatus], { nullable: true }) status?: JobStatus[] | null;
  @Field(() => ModelKind, { nullable: true }) modelKind?: Kind | null;
}
