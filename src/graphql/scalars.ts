/** Custom scalars: DateTime (ISO-8601), JSONObject, and the GeoJSON output scalar. */
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

export { GraphQLDateTime as DateTimeScalar, GraphQLJSONObject as JSONObjectScalar } from 'graphql-scalars';

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
