/**
 * The web console's own operations (dist/console/operations.json, written by console/build.mjs)
 * are put on the partner allow-list at start: they ship with the server, so a partner key can use
 * the console without an admin registering anything. Registration is an upsert by hash; every
 * server of a fleet may do it. The allow-list only admits the text: each operation is still
 * authorised per field (a partner's console cannot read what a partner key may not).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../common/logger';
import type { PersistedOperationService } from './persisted-operation.service';

export async function registerConsoleOperations(ops: PersistedOperationService, consoleDir: string, logger: Logger): Promise<number> {
  const file = path.join(consoleDir, 'operations.json');
  if (!fs.existsSync(file)) {
    logger.warn({ file }, 'no console operations to allow-list (console not built)');
    return 0;
  }
  const list = JSON.parse(fs.readFileSync(file, 'utf8')) as { name: string; query: string }[];
  for (const op of list) await ops.register(`console ${op.name}`, op.query);
  logger.info({ operations: list.length }, 'console operations allow-listed for partners');
  return list.length;
}
