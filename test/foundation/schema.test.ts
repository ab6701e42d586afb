import fs from 'node:fs';
import path from 'node:path';
import type { GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType } from 'graphql';
import { createSchema } from '../../src/api';
import { printSortedSchema } from '../../src/graphql/schema';

describe('schema/schema.graphql', () => {
  it('matches the schema emitted from the code (run `npm run schema:emit` when this fails)', async () => {
    const emitted = printSortedSchema(await createSchema());
    const checkedIn = fs.readFileSync(path.resolve(__dirname, '../../schema/schema.graphql'), 'utf8');
    expect(checkedIn).toBe(emitted);
  });

  it('keeps the API names the acceptance checks use', async () => {
    const schema = await createSchema();
    const products = schema.getQueryType()!.getFields().products!;
    expect(products.args.map((a) => a.name).sort()).toEqual(['after', 'filter', 'first']);
    expect(String(products.type)).toBe('ProductConnection!');
    const ingest = schema.getMutationType()!.getFields().ingestEvents!;
    expect(String(ingest.args[0]!.type)).toBe('[EventInput!]!');
    const input = schema.getType('EventInput') as GraphQLInputObjectType;
    expect(Object.keys(input.getFields())).toEqual(
      expect.arrayContaining(['idempotencyKey', 'userId', 'productId', 'type', 'occurredAt', 'location']),
    );
    const types = (schema.getType('EventType') as GraphQLEnumType).getValues().map((v) => v.name);
    expect(types.sort()).toEqual(['CART', 'FAVORITE', 'PURCHASE', 'SEARCH', 'VIEW']);
    const node = (schema.getType('Product') as GraphQLObjectType).getFields();
    expect(Object.keys(node)).toEqual(expect.arrayContaining(['id', 'name', 'price', 'category', 'location']));
  });
});
