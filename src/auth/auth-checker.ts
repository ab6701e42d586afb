/**
 * The one authorization function behind every @Authorized(...) rule:
 * - ADMIN: admin keys (admins pass every rule);
 * - PARTNER: partner keys (catalog and k-anonymous aggregates only);
 * - FRONTEND: any frontend key;
 * - SELF: a frontend key scoped to the user the field is about;
 * - PUBLIC_UNLESS_USER: every role, but when the request names a user (e.g. filter.userId) only
 *   that user's own frontend key (and admins).
 * `@Authorized()` with no rule admits every authenticated caller. Denials are decided from the
 * request alone (never by loading the object), so a denied caller learns nothing about existence.
 */
import type { GraphQLResolveInfo } from 'graphql';
import type { AuthChecker } from 'type-graphql';
import type { Context } from '../graphql/context';

export const Rule = {
  ADMIN: 'ADMIN',
  PARTNER: 'PARTNER',
  FRONTEND: 'FRONTEND',
  SELF: 'SELF',
  PUBLIC_UNLESS_USER: 'PUBLIC_UNLESS_USER',
} as const;
export type RuleName = (typeof Rule)[keyof typeof Rule];

/** The end user a field is about: the User being resolved, the owner of a review/event, or the argument naming one. */
export function subjectUserId(root: unknown, args: Record<string, unknown>, info: GraphQLResolveInfo): string | null {
  const parent = info.parentType.name;
  const r = root as { id?: unknown; userId?: unknown } | undefined;
  if (parent === 'User') return idOf(r?.id);
  const owner = idOf(r?.userId);
  if (owner !== null && parent !== 'Query' && parent !== 'Mutation') return owner;
  const filter = args.filter as { userId?: unknown } | undefined;
  return idOf(args.userId ?? filter?.userId ?? (info.fieldName === 'user' ? args.id : undefined));
}

/** An id as a string (GraphQL IDs arrive as strings or integers); any other value names no one. */
function idOf(v: unknown): string | null {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? String(v) : null;
}

export const authChecker: AuthChecker<Context, RuleName> = ({ context, root, args, info }, rules) => {
  const p = context.principal;
  if (!p) return false;
  if (p.role === 'admin') return true;
  if (rules.length === 0) return true;
  const isSelf = () => p.role === 'frontend' && p.userId !== null && subjectUserId(root, args, info) === p.userId;
  if (rules.includes(Rule.PUBLIC_UNLESS_USER)) return subjectUserId(root, args, info) === null || isSelf();
  if (p.role === 'partner') return rules.includes(Rule.PARTNER);
  if (rules.includes(Rule.FRONTEND)) return true;
  return rules.includes(Rule.SELF) && isSelf();
};
