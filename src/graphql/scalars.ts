/** Custom scalars: DateTime (ISO-8601), JSONObject, and the GeoJSON output scalar. */
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

import { GraphQLDateTime } from 'graphql-scalars';

export { GraphQLJSONObject as JSONObjectScalar } from 'graphql-scalars';

/** Earliest and latest instants any argument may name: outside them every use is a client mistake. */
export const MIN_DATE = new Date(Date.UTC(1970, 0, 1));
export const MAX_DATE = new Date(Date.UTC(2100, 0, 1));

function inRange(d: Date): Date {
  if (d.getTime() < MIN_DATE.getTime() || d.getTime() >= MAX_DATE.getTime()) {
    throw badInput(`DateTime must be from ${MIN_DATE.toISOString()} to before ${MAX_DATE.toISOString()}`);
  }
  return d;
}

/**
 * graphql-scalars' DateTime (RFC 3339), bounded to [1970, 2100): years such as 0001 or 9999 parse,
 * then fail deep inside date arithmetic or SQL with a 500 instead of naming the argument.
 */
export const DateTimeScalar = new GraphQLScalarType<Date | null, Date | string>({
  ...GraphQLDateTime.toConfig(),
  description: `${GraphQLDateTime.description ?? ''} Accepted from 1970-01-01T00:00:00Z to before 2100-01-01T00:00:00Z.`,
  specifiedByURL: 'https://scalars.graphql.org/chillicream/date-time.html',
  parseValue: (v) => inRange(GraphQLDateTime.parseValue(v)),
  parseLiteral: (ast, vars) => inRange(GraphQLDateTime.parseLiteral(ast, vars)),
});

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

export const GeoJSONScalar = new GraphQLScalarType({
  name: 'GeoJSON',
  description: 'A GeoJSON geometry object (RFC 7946), coordinates in [longitude, latitude] order.',
  serialize(value: unknown) {
    return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  },
  parseValue(value: unknown) {
    if (value === null || typeof value !== 'object' || typeof (value as { type?: unknown }).type !== 'string') {
      throw badInput('GeoJSON must be an object with a "type" member');
    }
    return value;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.OBJECT) throw badInput('GeoJSON literal must be an object');
    throw badInput('Pass GeoJSON values through a variable');
  },
});
