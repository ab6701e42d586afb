/**
 * Wires config → database → services → schema → HTTP. Used by main.ts, the tests and the benchmarks.
 */
import type { ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { ensureAdminKey } from './auth/bootstrap';
import type { Config } from './config/config';
import type { Logger } from './common/logger';
import { type Database, openDatabase, type OpenOptions } from './db/database';
import { seedDemoIfEmpty } from './demo/seed-demo';
import { createApollo } from './graphql/apollo';
import { createContext, createSchema } from './api';
import type { Context } from './graphql/context';
import { createGraphQLHandler } from './http/graphql-handler';
import { type HttpServer, startHttpServer } from './http/http-server';
import { attachGraphQLWs } from './http/ws-server';
import { createMetricsHandler } from './http/metrics-handler';
import { probe } from './http/readiness';
import { registerConsoleOperations } from './security/console-operations';
import { createStaticHandler } from './http/static-handler';
import { ModelChangeListener } from './inference/model-change-listener';
import { createJobWorker, jobsGauge } from './jobs/job-worker.factory';
import type { JobWorker } from './jobs/job-worker';
import { Metrics } from './observability/metrics';
import { limiterGauges, openLimiter } from './security/redis-limiter';
import { ModelReplies } from './assistant/model-replies';
import { createServices, type Services } from './services';

export interface App {
  readonly config: Config;
  readonly url: string;
  readonly http: HttpServer;
  readonly db: Database;
  readonly services: Services;
  readonly schema: GraphQLSchema;
  readonly apollo: ApolloServer<Context>;
  /** The fine-tuning job worker in this process (null when MERIDIAN_JOB_WORKER is off). */
  readonly jobWorker: JobWorker | null;
  stop(): Promise<void>;
}

export interface StartOptions extends OpenOptions {
  /** Use this database instead of opening one (tests share one per suite). Not closed by stop(). */
  readonly db?: Database;
}

export async function startApp(config: Config, logger: Logger, opts: StartOptions = {}): Promise<App> {
  const http = await startHttpServer(config.host, config.port, logger);
  /** Opened so far, closed in reverse if the start fails half-way (stop() closes them otherwise). */
  const opened: { close(): Promise<void> }[] = [];
  try {
    const db = opts.db ?? (await openDatabase(config, logger, opts));
    const services = createServices(db.dataSource, config, logger);
    if (config.seedDemo) await seedDemoIfEmpty(db.dataSource, services, { events: config.demoEvents }, logger);
    // Model versions load after seeding: the registry records shipped baselines in the database.
    await services.models.start();
    // Promotions made by other servers and workers arrive as they happen (real Postgres only).
    const modelChanges =
      config.databaseUrl && config.inference.loadAtStart
        ? new ModelChangeListener(config.databaseUrl, () => services.models.requestSync(), logger)
        : null;
    if (modelChanges) {
      await modelChanges.start();
      opened.push({ close: () => modelChanges.stop() });
    }
    const replies = await ModelReplies.load(db.dataSource, config.assistant, logger);
    if (replies) {
      services.conversations.attachReplies(replies);
      opened.push(replies);
    }
    await ensureAdminKey(services.apiKeys, config, logger);
    await registerConsoleOperations(services.persistedOperations, config.consoleDir, logger);
    const schema = await createSchema();
    const limits = openLimiter(config.redisUrl, logger);
    opened.push(limits);
    const limiter = limits.limiter;
    const metrics = new Metrics(db.dataSource, () => services.models.metrics());
    metrics.addGauge(jobsGauge(services.trainingJobs));
    if (replies) {
      metrics.addGauge({
        name: 'meridian_assistant_model_replies_total',
        help: 'Replies the reply model wrote, by outcome: model (kept) or why the template stood (ungrounded, empty, timeout, cancelled, error)',
        collect: async () => Object.entries(replies.counts).map(([outcome, value]) => ({ labels: { outcome }, value })),
      });
    }
    if (limits.redis) for (const g of limiterGauges(limits.redis)) metrics.addGauge(g);
    const apollo = createApollo(schema, config, logger, { limiter, audit: services.audit, metrics });
    await apollo.start();
    http.route(
      '/graphql',
      createGraphQLHandler({
        apollo,
        config,
        apiKeys: services.apiKeys,
        persisted: services.persistedOperations,
        limiter,
        makeContext: (principal, requestId) => createContext(services, logger, principal, requestId),
      }),
    );
    const consoleFiles = createStaticHandler(config.consoleDir, '/console/');
    http.route('/console', consoleFiles);
    http.route('/console/', consoleFiles);
    http.route('/metrics', createMetricsHandler(metrics, services.apiKeys, config.security.metricsPublic));
    const ws = attachGraphQLWs(http.server, {
      schema,
      apiKeys: services.apiKeys,
      makeContext: (principal, requestId) => createContext(services, logger, principal, requestId),
      logger,
      security: config.security,
      limiter,
      hideSuggestions: config.nodeEnv === 'production',
    });
    const jobWorker = config.jobs.workerEnabled ? createJobWorker(db.dataSource, config, services, logger) : null;
    jobWorker?.start();
    // A load balancer drops a server whose database does not answer; models and the change
    // listener degrade gracefully (MODEL_UNAVAILABLE for one kind; the periodic sync), so they inform.
    http.setReadinessCheck(async () => {
      const models = services.models.health();
      return {
        database: await probe(() => db.dataSource.query('SELECT 1'), true),
        models: { ok: Object.keys(models.unavailable).length === 0, required: false, detail: describeModels(models) },
        modelStore: await probe(() => services.models.describeStore(), false),
        ...(limits.redis ? { redis: { ok: limits.redis.shared, required: false, detail: limits.redis.shared ? 'limits shared' : 'not answering: limits per server' } } : {}),
        modelChanges: modelChanges
          ? { ok: modelChanges.connected, required: false, detail: modelChanges.connected ? 'listening' : 'reconnecting; the periodic sync covers' }
          : { ok: true, required: false, detail: config.databaseUrl ? 'not listening (models not loaded here)' : 'periodic sync (embedded database)' },
      };
    });
    http.setState({ kind: 'ready' });
    const url = `http://127.0.0.1:${http.port}/graphql`;
    logger.info({ url, database: db.kind }, 'meridian ready');
    return {
      config,
      url,
      http,
      db,
      services,
      schema,
      apollo,
      jobWorker,
      async stop() {
        // Upgraded sockets would hold the HTTP server open: close them first.
        await ws.close();
        await http.close();
        // Running trainers are stopped and their jobs handed back to the queue.
        await jobWorker?.stop();
        await apollo.stop();
        await modelChanges?.stop();
        await limits.close();
        await services.models.stop();
        await replies?.close();
        if (!opts.db) await db.close();
        logger.info('meridian stopped');
      },
    };
  } catch (err) {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
    http.setState({ kind: 'failed', reason: err instanceof Error ? err.message : String(err) });
    await http.close(1000);
    throw err;
  }
}

function describeModels(h: { serving: readonly string[]; unavailable: Readonly<Record<string, string>> }): string {
  const down = Object.entries(h.unavailable).map(([kind, why]) => `${kind} unavailable (${why})`);
  return [`serving ${h.serving.join(', ') || 'none'}`, ...down].join('; ');
}
