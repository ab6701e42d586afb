/** Creates API keys of each role through the public mutation, for role tests. */
import type { App } from '../../src/app';
import { gql } from './app';

export async function createKey(app: App, role: 'ADMIN' | 'FRONTEND' | 'PARTNER', userId?: string): Promise<string> {
  const r = await gql(app, `mutation($i: CreateApiKeyInput!){ createApiKey(input: $i) { secret record { id role } } }`, {
    i: { name: `test ${role.toLowerCase()}`, role, userId },
  });
  if (!r.body.data) throw new Error(JSON.stringify(r.body.errors));
  return r.body.data.createApiKey.secret as string;
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}
