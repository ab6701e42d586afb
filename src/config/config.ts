/**
 * The one module that reads process.env. Everything else receives a frozen Config.
 * Order: defaults → environment → validation; invalid values fail fast naming the variable.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The installation's root (the folder with this package's package.json), found from this file
 * whether it runs compiled (dist/src/config) or from source (src/config). The shipped models,
 * the console build and the trainer default to paths under it, so the server finds them from any
 * working directory; paths given in the environment resolve against the working directory.
 */
export const INSTALL_ROOT: string = (() => {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'model-artifacts'))) return dir;
  }
  return process.cwd();
})();

/** `value` resolved against `cwd`, or the installation's `fallback` when unset. */
function installPath(value: string | undefined, cwd: string, fallback: string): string {
  return value ? path.resolve(cwd, value) : path.join(INSTALL_ROOT, fallback);
}

export type NodeEnv = 'development' | 'production' | 'test';

export interface Config {
  /** HTTP port. Defaults to 4000. */
  readonly port: number;
  /** Bind address. Defaults to 0.0.0.0. */
  readonly host: string;
  readonly nodeEnv: NodeEnv;
  /** Postgres URL; when absent the embedded PGlite+PostGIS database is used. */
  readonly databaseUrl: string | undefined;
  /** Redis URL (REDIS_URL): rate limits shared by every server of a fleet. Absent: per server, in memory. */
  readonly redisUrl: string | undefined;
  /** Where the embedded database, fine-tuned models and job outputs live. Defaults to ./data. */
  readonly dataDir: string;
  /**
   * pg pool size. Defaults to 10; embedded: 1, because pglite-socket 0.2.11 interleaves protocol
   * messages of concurrent connections while one holds a transaction (a query on another
   * connection can fail), and PGlite runs one query at a time anyway.
   */
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
  /** Partners see only cells with at least this many distinct users (MERIDIAN_K_ANONYMITY). Defaults to 10. */
  readonly kAnonymityMin: number;
  /** Differential privacy of partner analytics (docs/privacy.md). */
  readonly dp: DpConfig;
  /**
   * Analytics operations (aggregates, timeSeries, hotspots, …) running at once in this process
   * (MERIDIAN_ANALYTICS_CONCURRENCY); others queue. Defaults to the CPU count − 1, at least 1.
   */
  readonly analyticsConcurrency: number;
  /** Longest an analytics operation waits for its turn before SERVICE_UNAVAILABLE, ms (MERIDIAN_ANALYTICS_QUEUE_MS). Defaults to 30000. */
  readonly analyticsQueueMs: number;
  /** The built web console served at /console/. Defaults to ./dist/console. */
  readonly consoleDir: string;
  /** ONNX inference runtime and serving (src/inference, src/recommend). */
  readonly inference: InferenceConfig;
  /** Where registered model versions are stored for every process of a fleet (src/inference/model-store.ts). */
  readonly modelStore: ModelStoreConfig;
  /** Security and abuse limits (README "Security"). */
  readonly security: SecurityConfig;
  /** Fine-tuning jobs: queue, worker and trainer (src/jobs, docs/jobs.md). */
  readonly jobs: JobsConfig;
  /** The customer-service assistant (docs/assistant.md). */
  readonly assistant: AssistantConfig;
}

/** The optional reply language model (docs/assistant-lm.md): off unless MERIDIAN_ASSISTANT_LM_DIR names an export-lm artifact. */
export interface AssistantConfig {
  /** An `export-lm` artifact directory (MERIDIAN_ASSISTANT_LM_DIR); unset: grounded template replies only. */
  readonly lmDir: string | null;
  /** Generated tokens per reply at most (MERIDIAN_ASSISTANT_LM_MAX_TOKENS). Defaults to 160. */
  readonly lmMaxTokens: number;
  /** A generation longer than this ends and the template stands, ms (MERIDIAN_ASSISTANT_LM_TIMEOUT_MS). Defaults to 20000. */
  readonly lmTimeoutMs: number;
  /** Generations running at once, one worker thread each (MERIDIAN_ASSISTANT_LM_CONCURRENCY). Defaults to 1. */
  readonly lmConcurrency: number;
  /** 0 is greedy (MERIDIAN_ASSISTANT_LM_TEMPERATURE). Defaults to 0. */
  readonly lmTemperature: number;
  /** Nucleus mass for sampling (MERIDIAN_ASSISTANT_LM_TOP_P). Defaults to 0.9. */
  readonly lmTopP: number;
}

export interface RoleLimitConfig {
  /** Query cost a key may spend per minute. */
  readonly costPerMinute: number;
  /** Concurrent requests per key. */
  readonly concurrency: number;
  /**
   * Statement timeout of the analytics and trending reads of one request, ms; 0 is none
   * (STATEMENT_TIMEOUT_<ROLE>_MS). Defaults to admin 0, frontend 5000, partner 10000. Real Postgres
   * only: the embedded database cannot interrupt a statement, but runs off the event loop.
   */
  readonly statementTimeoutMs: number;
}

export interface SecurityConfig {
  /** Accepted as an admin key when set (MERIDIAN_ADMIN_KEY). */
  readonly adminKey: string | undefined;
  /** Maximum selection depth. Defaults to 10. */
  readonly maxDepth: number;
  /** Maximum aliases per operation. Defaults to 30. */
  readonly maxAliases: number;
  /** Maximum directives per operation. Defaults to 20. */
  readonly maxDirectives: number;
  /** Maximum lexical tokens in a document. Defaults to 3000. */
  readonly maxTokens: number;
  /** Maximum operation cost (see src/security/query-cost.ts). Defaults to 50_000. */
  readonly maxCost: number;
  /** Maximum length of any string argument or variable. Defaults to 10_000. */
  readonly maxStringLength: number;
  /** Maximum items in any list variable, except bulk ingestion. Defaults to 250. */
  readonly maxListLength: number;
  /** Partners may only run operations registered in the allow-list. Defaults to true. */
  readonly partnerAllowListOnly: boolean;
  /** Serve GET /metrics without an admin key (for a scraper on a private network). Defaults to false. */
  readonly metricsPublic: boolean;
  readonly limits: Readonly<Record<'admin' | 'frontend' | 'partner', RoleLimitConfig>>;
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

function num(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new ConfigError(`${name} must be a number in [${min}, ${max}], got "${raw}"`);
  }
  return v;
}

function minLength(key: string): string {
  if (key.length < 16) throw new ConfigError('MERIDIAN_ADMIN_KEY must be at least 16 characters');
  return key;
}

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const databaseUrl = env.DATABASE_URL && env.DATABASE_URL.trim() !== '' ? env.DATABASE_URL : undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  }
  const redisUrl = env.REDIS_URL && env.REDIS_URL.trim() !== '' ? env.REDIS_URL : undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError('REDIS_URL must start with redis:// or rediss://');
  const nodeEnv = oneOf<NodeEnv>(env, 'NODE_ENV', 'development', ['development', 'production', 'test']);
  const dataDir = path.resolve(cwd, env.MERIDIAN_DATA_DIR || 'data');
  const config: Config = {
    port: int(env, 'PORT', 4000, 0, 65535),
    host: env.HOST && env.HOST !== '' ? env.HOST : '0.0.0.0',
    nodeEnv,
    databaseUrl,
    redisUrl,
    dataDir,
    dbPoolSize: int(env, 'DB_POOL_SIZE', databaseUrl ? 10 : 1, 1, 200),
    logLevel: oneOf(env, 'LOG_LEVEL', nodeEnv === 'test' ? 'warn' : 'info', [
      'fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent',
    ] as const),
    seedDemo: bool(env, 'MERIDIAN_SEED_DEMO', true),
    demoEvents: int(env, 'MERIDIAN_DEMO_EVENTS', 60_000, 0, 100_000_000),
    ingestMaxBatch: int(env, 'INGEST_MAX_BATCH', 5_000, 1, 50_000),
    futureSkewSeconds: int(env, 'EVENT_FUTURE_SKEW_SECONDS', 300, 0, 86_400),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 1 << 20, 1024, 1 << 30),
    maxIngestBodyBytes: int(env, 'MAX_INGEST_BODY_BYTES', 8 << 20, 1024, 1 << 30),
    modelArtifactsDir: installPath(env.MERIDIAN_MODEL_ARTIFACTS, cwd, 'model-artifacts'),
    kAnonymityMin: int(env, 'MERIDIAN_K_ANONYMITY', 10, 1, 1_000_000),
    dp: dpConfig(env),
    analyticsConcurrency: int(env, 'MERIDIAN_ANALYTICS_CONCURRENCY', Math.max(1, os.availableParallelism() - 1), 1, 1024),
    analyticsQueueMs: int(env, 'MERIDIAN_ANALYTICS_QUEUE_MS', 30_000, 0, 600_000),
    consoleDir: installPath(env.MERIDIAN_CONSOLE_DIR, cwd, 'dist/console'),
    inference: inferenceConfig(env),
    modelStore: modelStoreConfig(env, cwd, dataDir),
    jobs: jobsConfig(env, cwd),
    assistant: Object.freeze({
      lmDir: env.MERIDIAN_ASSISTANT_LM_DIR && env.MERIDIAN_ASSISTANT_LM_DIR.trim() !== '' ? path.resolve(cwd, env.MERIDIAN_ASSISTANT_LM_DIR) : null,
      lmMaxTokens: int(env, 'MERIDIAN_ASSISTANT_LM_MAX_TOKENS', 160, 1, 4096),
      lmTimeoutMs: int(env, 'MERIDIAN_ASSISTANT_LM_TIMEOUT_MS', 20_000, 100, 600_000),
      lmConcurrency: int(env, 'MERIDIAN_ASSISTANT_LM_CONCURRENCY', 1, 1, 64),
      lmTemperature: num(env, 'MERIDIAN_ASSISTANT_LM_TEMPERATURE', 0, 0, 5),
      lmTopP: num(env, 'MERIDIAN_ASSISTANT_LM_TOP_P', 0.9, 0.01, 1),
    }),
    security: {
      adminKey: env.MERIDIAN_ADMIN_KEY && env.MERIDIAN_ADMIN_KEY.length > 0 ? minLength(env.MERIDIAN_ADMIN_KEY) : undefined,
      maxDepth: int(env, 'MAX_QUERY_DEPTH', 10, 2, 100),
      maxAliases: int(env, 'MAX_QUERY_ALIASES', 30, 1, 10_000),
      maxDirectives: int(env, 'MAX_QUERY_DIRECTIVES', 20, 1, 10_000),
      maxTokens: int(env, 'MAX_QUERY_TOKENS', 3_000, 100, 1_000_000),
      maxCost: int(env, 'MAX_QUERY_COST', 50_000, 10, 100_000_000),
      maxStringLength: int(env, 'MAX_STRING_LENGTH', 10_000, 100, 10_000_000),
      maxListLength: int(env, 'MAX_LIST_LENGTH', 250, 1, 1_000_000),
      partnerAllowListOnly: bool(env, 'PARTNER_ALLOWLIST_ONLY', true),
      metricsPublic: bool(env, 'MERIDIAN_METRICS_PUBLIC', false),
      limits: {
        admin: {
          costPerMinute: int(env, 'RATE_LIMIT_ADMIN_COST', 5_000_000, 1, 1e12),
          concurrency: int(env, 'RATE_LIMIT_ADMIN_CONCURRENCY', 64, 1, 10_000),
          statementTimeoutMs: int(env, 'STATEMENT_TIMEOUT_ADMIN_MS', 0, 0, 86_400_000),
        },
        frontend: {
          costPerMinute: int(env, 'RATE_LIMIT_FRONTEND_COST', 300_000, 1, 1e12),
          concurrency: int(env, 'RATE_LIMIT_FRONTEND_CONCURRENCY', 16, 1, 10_000),
          statementTimeoutMs: int(env, 'STATEMENT_TIMEOUT_FRONTEND_MS', 5_000, 0, 86_400_000),
        },
        partner: {
          costPerMinute: int(env, 'RATE_LIMIT_PARTNER_COST', 60_000, 1, 1e12),
          concurrency: int(env, 'RATE_LIMIT_PARTNER_CONCURRENCY', 4, 1, 10_000),
          statementTimeoutMs: int(env, 'STATEMENT_TIMEOUT_PARTNER_MS', 10_000, 0, 86_400_000),
        },
      },
    },
  };
  return Object.freeze(config);
}

/** postgres://user:secret@host/db → postgres://user:***@host/db */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

export interface JobsConfig {
  /** Run a job worker inside the server process (MERIDIAN_JOB_WORKER). Defaults to true. */
  readonly workerEnabled: boolean;
  /** Jobs running at once across all workers; also each worker's own limit (MERIDIAN_JOB_CONCURRENCY). Defaults to 1. */
  readonly concurrency: number;
  /** How often an idle worker looks for queued jobs, ms (MERIDIAN_JOB_POLL_MS). Defaults to 2000. */
  readonly pollMs: number;
  /** How often a worker marks its jobs alive and checks for cancellation, ms (MERIDIAN_JOB_HEARTBEAT_MS). Defaults to 2000. */
  readonly heartbeatMs: number;
  /**
   * A running job whose heartbeat is older than this is taken from its (dead) worker and re-queued, ms
   * (MERIDIAN_JOB_DEAD_AFTER_MS, at most 60000). Defaults to 30000.
   */
  readonly deadAfterMs: number;
  /** Attempts before a job is dead-lettered (failed, deadLettered) (MERIDIAN_JOB_MAX_ATTEMPTS). Defaults to 3. */
  readonly maxAttempts: number;
  /** Delay before the first retry, doubled for each later one, ms (MERIDIAN_JOB_RETRY_BACKOFF_MS). Defaults to 10000. */
  readonly retryBackoffMs: number;
  /** Wall-clock limit of one attempt (export, training, evaluation, registration), s (MERIDIAN_JOB_TIMEOUT_S). Defaults to 21600 (6 h). */
  readonly timeoutSeconds: number;
  /**
   * autoPromote swaps a candidate in only when its primary metric beats the active version's by at least this
   * much (absolute, metrics are in [0, 1]) (MERIDIAN_JOB_PROMOTION_MARGIN). Defaults to 0.005.
   */
  readonly promotionMargin: number;
  /** The trainer package directory: working directory of trainer processes, hyperparameters.json (MERIDIAN_TRAINER_DIR). Defaults to ./trainer. */
  readonly trainerDir: string;
  /** Python that runs `-m meridian_trainer` (MERIDIAN_TRAINER_PYTHON). Defaults to <trainerDir>/.venv/bin/python. */
  readonly trainerPython: string;
}

export interface DpConfig {
  /** ε of the Laplace noise on every value of one partner answer, charged to the key's budget (MERIDIAN_DP_EPSILON). Defaults to 1. */
  readonly epsilon: number;
  /** ε a partner key may spend per UTC day (MERIDIAN_DP_BUDGET_PER_DAY). Defaults to 100. */
  readonly budgetPerDay: number;
  /** One purchase's revenue for the revenue noise, currency units (MERIDIAN_DP_REVENUE_SENSITIVITY). Defaults to 500. */
  readonly revenueSensitivity: number;
}

function dpConfig(env: Env): DpConfig {
  const epsilon = num(env, 'MERIDIAN_DP_EPSILON', 1, 0.01, 100);
  const budgetPerDay = num(env, 'MERIDIAN_DP_BUDGET_PER_DAY', 100, 0.01, 1_000_000);
  if (budgetPerDay < epsilon) throw new ConfigError(`MERIDIAN_DP_BUDGET_PER_DAY (${budgetPerDay}) must be at least MERIDIAN_DP_EPSILON (${epsilon})`);
  return Object.freeze({ epsilon, budgetPerDay, revenueSensitivity: num(env, 'MERIDIAN_DP_REVENUE_SENSITIVITY', 500, 0.01, 1_000_000) });
}

function jobsConfig(env: Env, cwd: string): JobsConfig {
  const trainerDir = installPath(env.MERIDIAN_TRAINER_DIR, cwd, 'trainer');
  const heartbeatMs = int(env, 'MERIDIAN_JOB_HEARTBEAT_MS', 2000, 50, 20_000);
  const deadAfterMs = int(env, 'MERIDIAN_JOB_DEAD_AFTER_MS', 30_000, 500, 60_000);
  // A live worker must get several heartbeats in before it can be mistaken for a dead one.
  if (deadAfterMs < 3 * heartbeatMs) {
    throw new ConfigError(`MERIDIAN_JOB_DEAD_AFTER_MS (${deadAfterMs}) must be at least 3 × MERIDIAN_JOB_HEARTBEAT_MS (${heartbeatMs})`);
  }
  return Object.freeze({
    workerEnabled: bool(env, 'MERIDIAN_JOB_WORKER', true),
    concurrency: int(env, 'MERIDIAN_JOB_CONCURRENCY', 1, 1, 64),
    pollMs: int(env, 'MERIDIAN_JOB_POLL_MS', 2000, 50, 600_000),
    heartbeatMs,
    deadAfterMs,
    maxAttempts: int(env, 'MERIDIAN_JOB_MAX_ATTEMPTS', 3, 1, 100),
    retryBackoffMs: int(env, 'MERIDIAN_JOB_RETRY_BACKOFF_MS', 10_000, 0, 3_600_000),
    timeoutSeconds: int(env, 'MERIDIAN_JOB_TIMEOUT_S', 21_600, 1, 7 * 86_400),
    promotionMargin: num(env, 'MERIDIAN_JOB_PROMOTION_MARGIN', 0.005, 0, 1),
    trainerDir,
    trainerPython: path.resolve(cwd, env.MERIDIAN_TRAINER_PYTHON || path.join(trainerDir, '.venv/bin/python')),
  });
}

export interface ModelStoreConfig {
  /**
   * MERIDIAN_MODEL_STORE: `postgres` (default: the database every process shares, the embedded one
   * included) or `directory` (MERIDIAN_MODEL_STORE_DIR, a directory every process mounts).
   */
  readonly kind: 'postgres' | 'directory';
  /** MERIDIAN_MODEL_STORE_DIR: the shared directory of the `directory` store. */
  readonly dir: string | undefined;
  /** This process's local copies of stored versions: <dataDir>/model-cache. */
  readonly cacheDir: string;
}

function modelStoreConfig(env: Env, cwd: string, dataDir: string): ModelStoreConfig {
  const kind = oneOf(env, 'MERIDIAN_MODEL_STORE', 'postgres', ['postgres', 'directory'] as const);
  const raw = env.MERIDIAN_MODEL_STORE_DIR?.trim();
  if (kind === 'directory' && !raw) throw new ConfigError('MERIDIAN_MODEL_STORE_DIR is required when MERIDIAN_MODEL_STORE=directory');
  return Object.freeze({ kind, dir: raw ? path.resolve(cwd, raw) : undefined, cacheDir: path.join(dataDir, 'model-cache') });
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
  /**
   * ORT's CPU memory arena per session (MERIDIAN_INFERENCE_CPU_ARENA). Defaults to false, so a
   * released session's memory goes back to the allocator; docs/serving.md has the measurements.
   */
  readonly cpuMemArena: boolean;
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
    cpuMemArena: bool(env, 'MERIDIAN_INFERENCE_CPU_ARENA', false),
    batchWindowMs: int(env, 'MERIDIAN_BATCH_WINDOW_MS', 2, 0, 50),
    maxBatchSize: int(env, 'MERIDIAN_MAX_BATCH_SIZE', 64, 1, 4096),
    cacheTtlMs: int(env, 'MERIDIAN_SERVING_CACHE_TTL_MS', 2000, 0, 10_000),
    modelSyncMs: int(env, 'MERIDIAN_MODEL_SYNC_MS', 5000, 0, 3_600_000),
    loadAtStart: bool(env, 'MERIDIAN_LOAD_MODELS', true),
  });
}
