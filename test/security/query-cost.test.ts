import { parse, type OperationDefinitionNode } from 'graphql';
import { createSchema } from '../../src/api';
import { operationCost } from '../../src/security/query-cost';

async function cost(query: string, variables: Record<string, unknown> = {}): Promise<number> {
  const schema = await createSchema();
  const doc = parse(query);
  return operationCost(schema, doc, doc.definitions[0] as OperationDefinitionNode, variables);
}

describe('operationCost', () => {
  it('multiplies a connection by first, not by its edges list again', async () => {
    expect(await cost('{ products(first: 20) { edges { node { name price category { name } } } } }')).toBe(121);
    expect(await cost('query($n: Int) { products(first: $n) { edges { node { name } } } }', { n: 50 })).toBe(151);
  });

  it('uses the default page size when first is absent', async () => {
    expect(await cost('{ products { edges { node { name } } } }')).toBe(61);
  });

  it('grows multiplicatively with nested lists', async () => {
    const c = await cost('{ users(first: 100) { edges { node { recentEvents(first: 100) { product { reviews(first: 100) { rating } } } } } } }');
    expect(c).toBeGreaterThan(1_000_000);
  });

  it('counts fragments, and bulk list arguments by length / 100', async () => {
    expect(await cost('{ categories { ...C } } fragment C on Category { name id }')).toBe(21);
    expect(await cost('mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }', { e: new Array(5000).fill({}) })).toBe(52);
  });
});
