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
// Code splitting: heavy libraries (the map's WebGL stack, GraphiQL) load with their page, not up front.
// CSS imported from TypeScript lands in app.css; fonts and images beside it (the CSP allows only 'self').
await build({
  entryPoints: { app: path.join(here, 'src/main.ts') },
  bundle: true,
  splitting: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  outdir: out,
  chunkNames: 'chunks/[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  loader: { '.graphql': 'text', '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.png': 'file', '.svg': 'file' },
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
for (const f of ['index.html', 'favicon.svg']) fs.copyFileSync(path.join(here, f), path.join(out, f));
const operations = consoleOperations(path.join(here, 'src'), path.resolve(here, '../schema/schema.graphql'));
fs.writeFileSync(path.join(out, 'operations.json'), `${JSON.stringify(operations, null, 2)}\n`);
