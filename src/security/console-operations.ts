/**
 * The queries of the console pages a partner key may open (dist/console/operations.json entries
 * marked `partner`, written by console/build.mjs) are put on the partner allow-list at start: they
 * ship with the server, so a partner key can use the console without an admin registering
 * anything. Admin-only console operations (keys, jobs, mutations) stay off it. Every server of a
 * fleet may do this; an older console's texts are removed. The allow-list only admits the text:
 * each operation is still authorised per field.
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
  const list = (JSON.parse(fs.readFileSync(file, 'utf8')) as { name: string; query: string; partner?: boolean }[]).filter((o) => o.partner === true);
  await ops.syncNamed('console ', list);
  logger.info({ operations: list.length }, 'console operations allow-listed for partners');
  return list.length;
}
