/**
 * `npm run keys -- create --role admin|frontend|partner --name NAME [--user-id ID]`,
 * `npm run keys -- revoke <id>`, `npm run keys -- list`: API keys in the configured database.
 */
import 'reflect-metadata';
import { ApiKeyService } from '../auth/api-key.service';
import type { Role } from '../auth/principal';
import { createLogger } from '../common/logger';
import { loadConfig } from '../config/config';
import { openDatabase } from '../db/database';
import { parseArgs } from './cli-args';

const USAGE = 'usage: npm run keys -- create --role <admin|frontend|partner> --name <name> [--user-id <id>] | revoke <id> | list';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const [command, id] = args.positional;
  const config = loadConfig({ ...process.env, MERIDIAN_SEED_DEMO: 'false' });
  const db = await openDatabase(config, createLogger('warn'));
  const keys = new ApiKeyService(db.dataSource, undefined);
  try {
    const str = (k: string) => (typeof args.options[k] === 'string' ? (args.options[k]) : undefined);
    switch (command) {
      case 'create': {
        const created = await keys.create({ name: str('name') ?? 'cli', role: (str('role') ?? '') as Role, userId: str('user-id') ?? null });
        process.stdout.write(`${JSON.stringify({ id: created.record.id, role: created.record.role, secret: created.secret })}\n`);
        break;
      }
      case 'revoke':
        if (!id) throw new Error(USAGE);
        process.stdout.write(`${JSON.stringify(await keys.revoke(id))}\n`);
        break;
      case 'list':
        for (const k of await keys.list()) process.stdout.write(`${JSON.stringify(k)}\n`);
        break;
      default:
        throw new Error(USAGE);
    }
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`keys failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
