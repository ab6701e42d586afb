#!/usr/bin/env node
/**
 * `npm run test:node`: the Jest suites.
 * - With DATABASE_URL (real Postgres): one `jest --runInBand` run; every test file gets its own
 *   clone of the seeded template database.
 * - Without it (embedded PGlite): one Jest run per test file, each on a fresh copy of the seeded
 *   embedded data folder. Files on one shared embedded database leak state into each other, and a
 *   pglite-socket query-queue stall left by one file would hang every later one; a process per
 *   file isolates both, at a few seconds of start-up per file.
 * Extra arguments (paths, -t) are passed to Jest.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const jest = path.join(root, 'node_modules/jest/bin/jest.js');
const args = process.argv.slice(2);
const embedded = !process.env.DATABASE_URL || process.env.MERIDIAN_TEST_DB === 'embedded';

const run = (extra) => spawnSync(process.execPath, [jest, '--runInBand', ...extra], { cwd: root, stdio: 'inherit', env: process.env }).status ?? 1;

if (!embedded) process.exit(run(args));

const listed = spawnSync(process.execPath, [jest, '--listTests', ...args.filter((a) => !a.startsWith('-'))], { cwd: root, encoding: 'utf8', env: process.env });
if (listed.status !== 0) {
  process.stderr.write(listed.stderr);
  process.exit(listed.status ?? 1);
}
const files = listed.stdout.split('\n').filter((f) => f.trim()).sort();
const options = args.filter((a) => a.startsWith('-'));
const failed = [];
for (const [i, file] of files.entries()) {
  process.stderr.write(`\n[${i + 1}/${files.length}] ${path.relative(root, file)} (embedded database)\n`);
  if (run([...options, file]) !== 0) failed.push(path.relative(root, file));
}
process.stderr.write(failed.length ? `\n${failed.length} of ${files.length} test files failed:\n  ${failed.join('\n  ')}\n` : `\nall ${files.length} test files passed\n`);
process.exit(failed.length ? 1 : 0);
