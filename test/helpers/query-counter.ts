/** A TypeORM logger that counts SQL statements, to prove DataLoaders batch (no N+1). */
import type { Logger as TypeOrmLogger } from 'typeorm';

export class QueryCounter implements TypeOrmLogger {
  count = 0;
  readonly statements: string[] = [];

  logQuery(query: string): void {
    if (/^\s*(START TRANSACTION|COMMIT|ROLLBACK|SELECT version\(\)|SHOW)/i.test(query)) return;
    this.count++;
    this.statements.push(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}

  reset(): void {
    this.count = 0;
    this.statements.length = 0;
  }
}
