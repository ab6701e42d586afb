// Builds the web console into dist/console: type-check (tsc), bundle (esbuild), copy static files.
// Runs as part of `npm run build`; everything comes from npm packages, nothing from a CDN.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { consoleOperations } from './operations.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, '../dist/console');
execFileSync(process.execPath, [path.resolve(here, '../node_modules/typescript/bin/tsc'), '-p', path.join(here, 'tsconfig.json')], { stdio: 'inherit' });
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(here, 'src/main.ts')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  outfile: path.join(out, 'app.js'),
  logLevel: 'warning',
});
for (const f of ['index.html', 'styles.css', 'favicon.svg']) fs.copyFileSync(path.join(here, f), path.join(out, f));
const operations = consoleOperations(path.join(here, 'src'), path.resolve(here, '../schema/schema.graphql'));
fs.writeFileSync(path.join(out, 'operations.json'), `${JSON.stringify(operations, null, 2)}\n`);
