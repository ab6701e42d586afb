/** Locates the real datasets (../shared/data); they are read at test time, never copied into the repo. */
import fs from 'node:fs';
import path from 'node:path';

export function sharedDataDir(): string {
  const candidates = [
    process.env.MERIDIAN_SHARED_DATA,
    path.resolve(__dirname, '../../../shared/data'),
    '/work/shared/data',
  ].filter((c): c is string => !!c);
  const found = candidates.find((c) => fs.existsSync(path.join(c, 'README.md')));
  if (!found) throw new Error(`shared datasets not found (set MERIDIAN_SHARED_DATA); looked in ${candidates.join(', ')}`);
  return found;
}
