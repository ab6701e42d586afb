/** GraphQL types of the model registry: kinds and versions (admin only). */
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { JSONObjectScalar } from '../graphql/scalars';
import { type ModelKind as Kind, MODEL_KINDS, type ModelStatus } from './model-kind';

/** NEXT_ITEM: 'next-item', …: one value per kind of MODEL_KINDS, so a new kind is in the API at once. */
export const ModelKind: Readonly<Record<string, Kind>> = Object.fromEntries(MODEL_KINDS.map((k) => [k.toUpperCase().replace(/-/g, '_'), k]));
registerEnumType(ModelKind, { name: 'ModelKind', description: 'The models Meridian trains and serves.' });

export const ModelVersionStatus = { CANDIDATE: 'candidate', ACTIVE: 'active', ARCHIVED: 'archived' } as const satisfies Record<string, ModelStatus>;
registerEnumType(ModelVersionStatus, {
  name: 'ModelVersionStatus',
  description: 'CANDIDATE: registered, not serving; ACTIVE: serving (one per kind); ARCHIVED: served before.',
});

@ObjectType({ description: 'A verified model artifact recorded in the registry.' })
export class ModelVersion {
  @Field(() => ID) id!: string;
  @Field(() => ModelKind) kind!: Kind;
  @Field({ description: 'The trainer\'s version name: <UTC time>-<model sha256 prefix>.' }) version!: string;
  @Field(() => ModelVersionStatus) status!: ModelStatus;
  @Field(() => JSONObjectScalar, { description: 'Test metrics the trainer reported (names per kind, e.g. ndcg@10).' })
  metrics!: Record<string, unknown>;
  @Field({ description: 'sha256 of model.onnx.' }) sha256!: string;
  @Field(() => ID, { nullable: true, description: 'The training job that produced it; null for shipped baselines.' })
  sourceJobId!: string | null;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) activatedAt!: Date | null;
  @Field(() => ID, { nullable: true, description: 'The version that was active before this one was promoted (rollback target).' })
  previousActiveId!: string | null;
}
