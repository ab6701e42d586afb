/**
 * The one module that reads process.env. Everything else receives a frozen Config.
 * Order: defaults → environment → validation; invalid values fail fast naming the variable.
 */
import os from 'node:os';
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
  /** ONNX inference runtime and serving (src/inference, src/recommend). */
  readonly inference: InferenceConfig;
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
    inference: inferenceConfig(env),
  };
  return Object.freeze(config);
}

/** postgres://user:secret@host/db → postgres://user:***@host/db */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

export type ExecutionProvider = 'cpu' | 'cuda';

export interface InferenceConfig {
  /**
   * ONNX Runtime execution providers in order of preference (MERIDIAN_EXECUTION_PROVIDERS, a comma
   * list of cpu, cuda). When CUDA cannot load, the runtime logs it once and uses CPU explicitly
   * (onnxruntime does not fall back by itself). Defaults to ["cpu"].
   */
  readonly executionProviders: readonly ExecutionProvider[];
  /** Inference worker threads holding the ONNX sessions (MERIDIAN_INFERENCE_WORKERS). Defaults to 2 (1 on one core). */
  readonly workers: number;
  /** ORT intra-op threads per session (MERIDIAN_INFERENCE_THREADS). Defaults to 1. */
  readonly threadsPerSession: number;
  /** Micro-batching window: how long a request waits for others to the same model, ms (MERIDIAN_BATCH_WINDOW_MS, 0–50). Defaults to 2. */
  readonly batchWindowMs: number;
  /** Most rows in one batched run (MERIDIAN_MAX_BATCH_SIZE, 1–4096). Defaults to 64. */
  readonly maxBatchSize: number;
  /** Lifetime of serving caches (area popularity, review sentiment summaries), ms (MERIDIAN_SERVING_CACHE_TTL_MS, 0–10000). Defaults to 2000. */
  readonly cacheTtlMs: number;
  /** How often to pick up versions promoted by another process, ms (MERIDIAN_MODEL_SYNC_MS; 0 = never). Defaults to 5000. */
  readonly modelSyncMs: number;
  /** Load the active model versions at start (MERIDIAN_LOAD_MODELS). Defaults to true. */
  readonly loadAtStart: boolean;
}

function inferenceConfig(env: Env): InferenceConfig {
  const raw = env.MERIDIAN_EXECUTION_PROVIDERS;
  const providers = (raw && raw.trim() !== '' ? raw : 'cpu').split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
  const allowed: readonly string[] = ['cpu', 'cuda'];
  const bad = providers.find((p) => !allowed.includes(p));
  if (bad !== undefined || providers.length === 0 || new Set(providers).size !== providers.length) {
    throw new ConfigError(`MERIDIAN_EXECUTION_PROVIDERS must be a comma list of distinct cpu, cuda; got "${raw}"`);
  }
  const cores = os.availableParallelism();
  return Object.freeze({
    executionProviders: Object.freeze(providers as ExecutionProvider[]),
    workers: int(env, 'MERIDIAN_INFERENCE_WORKERS', Math.min(2, cores), 1, 64),
    threadsPerSession: int(env, 'MERIDIAN_INFERENCE_THREADS', 1, 1, 256),
    batchWindowMs: int(env, 'MERIDIAN_BATCH_WINDOW_MS', 2, 0, 50),
    maxBatchSize: int(env, 'MERIDIAN_MAX_BATCH_SIZE', 64, 1, 4096),
    cacheTtlMs: int(env, 'MERIDIAN_SERVING_CACHE_TTL_MS', 2000, 0, 10_000),
    modelSyncMs: int(env, 'MERIDIAN_MODEL_SYNC_MS', 5000, 0, 3_600_000),
    loadAtStart: bool(env, 'MERIDIAN_LOAD_MODELS', true),
  });
}
