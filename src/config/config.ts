/**
 * The one module that reads process.env. Everything else receives a frozen Config.
 * Order: defaults → environment → validation; invalid values fail fast naming the variable.
 */
import path from 'node:path';

export type NodeEnv = 'development' | 'production' | 'test';

export interface Config {
  /** HTTP port. Defaults to 4000. */
  readonly port: number;
  /** Bind address. Defaults to 0.0.0.0. */
  readonly host: string;
  readonly nodeEnv: NodeEnv;
  /** Postgres URL; when absent the embedded PGlite+PostGIS database is used. */
  readonly databaseUrl: string | undefined;
  /** Where the embedded database, fine-tuned models and job outputs live. Defaults to ./data. */
  readonly dataDir: string;
  /** pg pool size. Defaults to 10 (embedded: 4). */
  readonly dbPoolSize: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Seed the demo dataset on an empty database at start. Defaults to true. */
  readonly seedDemo: boolean;
  /** Number of behaviour events in the demo dataset. Defaults to 60_000. */
  readonly demoEvents: number;
  /** Maximum events per ingestEvents call. Defaults to 5_000. */
  readonly ingestMaxBatch: number;
  /** Accepted clock skew for event timestamps in the future, seconds. Defaults to 300. */
  readonly futureSkewSeconds: number;
  /** Maximum request body size in bytes for ordinary operations. Defaults to 1 MiB. */
  readonly maxBodyBytes: number;
  /** Maximum request body size in bytes for ingestion operations. Defaults to 8 MiB. */
  readonly maxIngestBodyBytes: number;
  /** Directory of shipped baseline models. Defaults to ./model-artifacts. */
  readonly modelArtifactsDir: string;
}

type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  }
  return v;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, def: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const databaseUrl = env.DATABASE_URL && env.DATABASE_URL.trim() !== '' ? env.DATABASE_URL : undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  }
  const nodeEnv = oneOf<NodeEnv>(env, 'NODE_ENV', 'development', ['development', 'production', 'test']);
  const config: Config = {
    port: int(env, 'PORT', 4000, 0, 65535),
    host: env.HOST && env.HOST !== '' ? env.HOST : '0.0.0.0',
    nodeEnv,
    databaseUrl,
    dataDir: path.resolve(cwd, env.MERIDIAN_DATA_DIR || 'data'),
    dbPoolSize: int(env, 'DB_POOL_SIZE', databaseUrl ? 10 : 4, 1, 200),
    logLevel: oneOf(env, 'LOG_LEVEL', nodeEnv === 'test' ? 'warn' : 'info', [
      'fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent',
    ] as const),
    seedDemo: bool(env, 'MERIDIAN_SEED_DEMO', true),
    demoEvents: int(env, 'MERIDIAN_DEMO_EVENTS', 60_000, 0, 100_000_000),
    ingestMaxBatch: int(env, 'INGEST_MAX_BATCH', 5_000, 1, 50_000),
    futureSkewSeconds: int(env, 'EVENT_FUTURE_SKEW_SECONDS', 300, 0, 86_400),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 1 << 20, 1024, 1 << 30),
    maxIngestBodyBytes: int(env, 'MAX_INGEST_BODY_BYTES', 8 << 20, 1024, 1 << 30),
    modelArtifactsDir: path.resolve(cwd, env.MERIDIAN_MODEL_ARTIFACTS || 'model-artifacts'),
  };
  return Object.freeze(config);
}

/** postgres://user:secret@host/db → postgres://user:***@host/db */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
