/** DataSource for the TypeORM CLI (`npm run migration:run`). Uses DATABASE_URL. */
import 'reflect-metadata';
import { loadConfig } from './src/config/config';
import { createDataSource } from './src/db/data-source';

const config = loadConfig();
if (!config.databaseUrl) throw new Error('DATABASE_URL must be set for the TypeORM CLI');

export const AppDataSource = createDataSource({ url: config.databaseUrl, poolSize: 2 });
