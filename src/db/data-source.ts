/** Builds the TypeORM DataSource used by the server, tools, tests and the migration CLI. */
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';
import { migrations } from '../../migrations';
import { CategoryEntity } from '../catalog/category.entity';
import { ProductEntity } from '../catalog/product.entity';
import { RegionEntity } from '../catalog/region.entity';
import { ReviewEntity } from '../catalog/review.entity';
import { UserEntity } from '../catalog/user.entity';
import { EventEntity } from '../events/event.entity';

export const entities = [CategoryEntity, UserEntity, ProductEntity, ReviewEntity, RegionEntity, EventEntity];

export interface DataSourceOptions {
  readonly url: string;
  readonly poolSize: number;
  /** Optional TypeORM logger, e.g. the SQL statement counter used by tests. */
  readonly logger?: TypeOrmLogger;
}

export function createDataSource(opts: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    entities,
    migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: opts.logger ? ['query', 'error'] : false,
    logger: opts.logger,
    extra: { max: opts.poolSize, connectionTimeoutMillis: 30_000 },
  });
}
