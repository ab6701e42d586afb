/** GraphQL types for keys, the caller, the audit log and persisted operations. */
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { JSONObjectScalar } from '../graphql/scalars';
import type { Role } from './principal';

export const ApiRole = { ADMIN: 'admin', FRONTEND: 'frontend', PARTNER: 'partner' } as const satisfies Record<string, Role>;
registerEnumType(ApiRole, { name: 'ApiRole', description: 'What an API key may do.' });

@ObjectType()
export class ApiKey {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => ApiRole) role!: Role;
  @Field(() => ID, { nullable: true, description: 'Frontend keys: the end user they act for (null = anonymous).' })
  userId!: string | null;
  @Field({ description: 'Public part of the key, for identification.' }) prefix!: string;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) revokedAt!: Date | null;
  @Field(() => Date, { nullable: true }) lastUsedAt!: Date | null;
}

@ObjectType()
export class CreatedApiKey {
  @Field({ description: 'The full key. Shown once; only its hash is stored.' }) secret!: string;
  @Field(() => ApiKey) record!: ApiKey;
}

@InputType()
export class CreateApiKeyInput {
  @Field() name!: string;
  @Field(() => ApiRole) role!: Role;
  @Field(() => ID, { nullable: true }) userId?: string;
}

@ObjectType({ description: 'The caller, as its API key says.' })
export class Viewer {
  @Field(() => ApiRole) role!: Role;
  @Field() name!: string;
  @Field(() => ID, { nullable: true }) userId!: string | null;
}

@ObjectType()
export class AuditEntry {
  @Field(() => ID) id!: string;
  @Field() at!: Date;
  @Field(() => ID, { nullable: true }) actorKeyId!: string | null;
  @Field() actorRole!: string;
  @Field() action!: string;
  @Field(() => String, { nullable: true }) target!: string | null;
  @Field(() => JSONObjectScalar) details!: Record<string, unknown>;
  @Field(() => String, { nullable: true }) requestId!: string | null;
}

@ObjectType()
export class PersistedOperation {
  @Field() sha256!: string;
  @Field() name!: string;
  @Field() query!: string;
  @Field() createdAt!: Date;
}

@ObjectType()
export class DeleteUserResult {
  @Field(() => ID) userId!: string;
  @Field(() => Int) events!: number;
  @Field(() => Int) reviews!: number;
  @Field(() => Int) apiKeys!: number;
}
