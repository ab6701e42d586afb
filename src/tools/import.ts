/**
 * `npm run import -- <kind> <file|dir> [options]` into the configured database.
 *   users|products|events|reviews <file.csv[.gz]>   Meridian's own CSV layout (README)
 *   regions <file.geojson[.gz]> --code-property sigla [--prefix br-state:] [--kind state]
 *   olist <dir> [--max-orders N]                    the Olist dataset folder
 *   taobao <UserBehavior.csv[.gz]>                  the Taobao UserBehavior file
 * Each batch is validated and written all-or-nothing; re-running an import adds nothing twice.
 */
import 'reflect-metadata';
import { createLogger } from '../common/logger';
import { loadConfig } from '../config/config';
import { openDatabase } from '../db/database';
import { importGeneric } from '../importers/generic.importer';
import { importOlist } from '../importers/olist.importer';
import { importRegions } from '../importers/regions.importer';
import { importTaobao } from '../importers/taobao.importer';
import { createServices } from '../services';
import { intOption, parseArgs } from './cli-args';

const USAGE = 'usage: npm run import -- <users|products|events|reviews|regions|olist|taobao> <file|dir> [options]';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const [kind, target] = args.positional;
  if (!kind || !target) throw new Error(USAGE);
  const config = loadConfig({ ...process.env, MERIDIAN_SEED_DEMO: 'false' });
  const logger = createLogger(config.logLevel);
  const db = await openDatabase(config, logger);
  const services = createServices(db.dataSource, config, logger);
  try {
    let result: unknown;
    switch (kind) {
      case 'users':
      case 'products':
      case 'events':
      case 'reviews':
        result = await importGeneric(services, kind, target);
        break;
      case 'regions': {
        const code = args.options['code-property'];
        if (typeof code !== 'string') throw new Error('regions needs --code-property <name>');
        const str = (k: string) => (typeof args.options[k] === 'string' ? (args.options[k]) : undefined);
        result = { regions: await importRegions(services, target, { codeProperty: code, nameProperty: str('name-property'), codePrefix: str('prefix'), kind: str('kind') }) };
        break;
      }
      case 'olist':
        result = await importOlist(services, target, logger, { maxOrders: intOption(args, 'max-orders', Number.MAX_SAFE_INTEGER) });
        break;
      case 'taobao':
        result = await importTaobao(services, target, logger);
        break;
      default:
        throw new Error(USAGE);
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`import failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
