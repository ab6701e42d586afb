/** Writes the SDL emitted from the code to schema/schema.graphql (`npm run schema:emit`). */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { createSchema } from '../api';
import { printSortedSchema } from '../graphql/schema';

export const SCHEMA_FILE = path.resolve(__dirname, '../../..', 'schema/schema.graphql');

async function main(): Promise<void> {
  const sdl = printSortedSchema(await createSchema());
  fs.mkdirSync(path.dirname(SCHEMA_FILE), { recursive: true });
  fs.writeFileSync(SCHEMA_FILE, sdl);
  process.stdout.write(`wrote ${SCHEMA_FILE} (${sdl.length} bytes)\n`);
}

void main();
