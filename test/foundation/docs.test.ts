/** Every ```graphql example in README.md and docs/ is valid against the checked-in schema. */
import fs from 'node:fs';
import path from 'node:path';
import { buildSchema, type DefinitionNode, Kind, parse, validate } from 'graphql';

const ROOT = path.resolve(__dirname, '../..');
const schema = buildSchema(fs.readFileSync(path.join(ROOT, 'schema/schema.graphql'), 'utf8'));
const files = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('GraphQL examples in the documentation', () => {
  for (const file of files) {
    const blocks = [...fs.readFileSync(path.join(ROOT, file), 'utf8').matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
    blocks.forEach((block, i) => {
      it(`${file} example ${i + 1} is valid`, () => {
        // a block may hold several operations (a query and a subscription): each is checked alone
        const defs = parse(block).definitions;
        const fragments = defs.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
        const ops = defs.filter((d): d is DefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
        expect(ops.length).toBeGreaterThan(0);
        const errors = ops.flatMap((op) => validate(schema, { kind: Kind.DOCUMENT, definitions: [op, ...fragments] }).map((e) => e.message));
        expect(errors).toEqual([]);
      });
    });
  }
});
