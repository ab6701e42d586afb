import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const e = globalThis.__meridianEmbedded;
  if (!e) return;
  await e.db.close();
  fs.rmSync(e.runDir, { recursive: true, force: true });
}
