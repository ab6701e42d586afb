import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { pageSize } from '../common/pagination';
import type { Context } from '../graphql/context';
import { Rule } from './auth-checker';
import {
  ApiKey, AuditEntry, CreateApiKeyInput, CreatedApiKey, DeleteUserResult, PersistedOperation, Viewer,
} from './auth.types';

@Resolver()
export class AuthResolver {
  @Authorized()
  @Query(() => Viewer, { description: 'Who the API key says the caller is.' })
  viewer(@Ctx() ctx: Context): Viewer {
    return { role: ctx.principal.role, name: ctx.principal.name, userId: ctx.principal.userId };
  }

  @Authorized(Rule.ADMIN)
  @Query(() => [ApiKey])
  async apiKeys(@Ctx() ctx: Context) {
    return ctx.services.apiKeys.list();
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => CreatedApiKey, { description: 'Create a key; the secret is returned once.' })
  async createApiKey(@Ctx() ctx: Context, @Arg('input', () => CreateApiKeyInput) input: CreateApiKeyInput) {
    return ctx.services.apiKeys.create(input);
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => ApiKey)
  async revokeApiKey(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return ctx.services.apiKeys.revoke(id);
  }

  @Authorized(Rule.ADMIN)
  @Query(() => [AuditEntry], { description: 'Admin actions, newest first.' })
  async auditLog(@Ctx() ctx: Context, @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number) {
    return ctx.services.audit.recent(pageSize(first));
  }

  @Authorized(Rule.ADMIN)
  @Query(() => [PersistedOperation], { description: 'The allow-list partner keys are limited to.' })
  async persistedOperations(@Ctx() ctx: Context) {
    return ctx.services.persistedOperations.list();
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => PersistedOperation, { description: 'Allow-list an operation by its text; returns its SHA-256.' })
  async registerPersistedOperation(@Ctx() ctx: Context, @Arg('name') name: string, @Arg('query') query: string) {
    return ctx.services.persistedOperations.register(name, query);
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => DeleteUserResult, {
    description: "Erase a user: personal data, events, reviews and keys; aggregates are recomputed without them.",
  })
  async deleteUser(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return ctx.services.privacy.deleteUser(id);
  }
}
