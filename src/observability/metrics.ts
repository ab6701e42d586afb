/**
 * Prometheus metrics (GET /metrics): GraphQL request latency by operation, errors by code,
 * database pool, inference latency/batch size/queue depth per model, and any gauges other
 * modules register (e.g. job states). prom-client collects the first ones; model histograms are
 * already aggregated by the inference runtime and are rendered in the text format directly.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import client from 'prom-client';
import type { DataSource } from 'typeorm';
import type { HistogramSnapshot } from '../inference/inference.metrics';
import type { InferenceMetricsSnapshot } from '../inference/model-registry';

/** A gauge family computed at scrape time. */
export interface GaugeSource {
  readonly name: string;
  readonly help: string;
  collect(): Promise<{ labels: Record<string, string>; value: number }[]>;
}

const MAX_OPERATION_NAMES = 200;

export class Metrics {
  readonly registry = new client.Registry();
  private readonly requestDuration: client.Histogram<'operation' | 'type'>;
  private readonly errors: client.Counter<'code'>;
  private readonly operationNames = new Set<string>();
  private readonly gauges: GaugeSource[] = [];

  constructor(
    private readonly ds: DataSource,
    private readonly inference: () => InferenceMetricsSnapshot | null,
  ) {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'meridian_' });
    this.requestDuration = new client.Histogram({
      name: 'meridian_graphql_request_duration_seconds',
      help: 'GraphQL request latency by operation name and type',
      labelNames: ['operation', 'type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.errors = new client.Counter({
      name: 'meridian_graphql_errors_total',
      help: 'GraphQL errors by extensions.code',
      labelNames: ['code'],
      registers: [this.registry],
    });
    const pool = () => (this.ds.driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } }).master;
    new client.Gauge({
      name: 'meridian_db_pool_connections',
      help: 'Database pool connections by state',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const p = pool();
        if (!p) return;
        this.set({ state: 'total' }, p.totalCount);
        this.set({ state: 'idle' }, p.idleCount);
        this.set({ state: 'waiting' }, p.waitingCount);
      },
    });
  }

  addGauge(source: GaugeSource): void {
    this.gauges.push(source);
  }

  /** Operation names come from clients: keep the label set bounded. */
  private operationLabel(name: string | undefined): string {
    if (!name || !/^[A-Za-z0-9_]{1,64}$/.test(name)) return 'anonymous';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    this.operationNames.add(name);
    return name;
  }

  plugin<C extends object>(): ApolloServerPlugin<C> {
    return {
      requestDidStart: async () => {
        const started = process.hrtime.bigint();
        return {
          willSendResponse: async ({ operation, operationName, errors, response }) => {
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            this.requestDuration.observe({ operation: this.operationLabel(operation?.name?.value ?? operationName ?? undefined), type: operation?.operation ?? 'unknown' }, seconds);
            const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
            for (const e of body?.errors ?? errors ?? []) {
              const code = (e.extensions?.code as string | undefined) ?? 'INTERNAL_SERVER_ERROR';
              this.errors.inc({ code: /^[A-Z_]{1,40}$/.test(code) ? code : 'OTHER' });
            }
          },
        };
      },
    };
  }

  async render(): Promise<string> {
    const parts = [await this.registry.metrics()];
    const inf = this.inference();
    if (inf) parts.push(renderInference(inf));
    for (const g of this.gauges) {
      const rows = await g.collect();
      parts.push(`# HELP ${g.name} ${g.help}\n# TYPE ${g.name} gauge\n${rows.map((r) => `${g.name}${labels(r.labels)} ${r.value}`).join('\n')}\n`);
    }
    return parts.join('\n');
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function labels(l: Record<string, string>): string {
  const entries = Object.entries(l);
  return entries.length ? `{${entries.map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',')}}` : '';
}

function histogram(name: string, help: string, series: { labels: Record<string, string>; h: HistogramSnapshot }[]): string {
  const out = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  for (const { labels: l, h } of series) {
    for (const b of h.buckets) out.push(`${name}_bucket${labels({ ...l, le: Number.isFinite(b.le) ? String(b.le) : '+Inf' })} ${b.count}`);
    out.push(`${name}_sum${labels(l)} ${h.sum}`, `${name}_count${labels(l)} ${h.count}`);
  }
  return `${out.join('\n')}\n`;
}

function renderInference(m: InferenceMetricsSnapshot): string {
  const per = (pick: (x: InferenceMetricsSnapshot['models'][number]) => HistogramSnapshot) =>
    m.models.map((x) => ({ labels: { kind: x.kind, version: x.version }, h: pick(x) }));
  const gauge = (name: string, help: string, value: (x: InferenceMetricsSnapshot['models'][number]) => number) =>
    `# HELP ${name} ${help}\n# TYPE ${name} ${name.endsWith('_total') ? 'counter' : 'gauge'}\n${m.models.map((x) => `${name}${labels({ kind: x.kind, version: x.version })} ${value(x)}`).join('\n')}\n`;
  return [
    histogram('meridian_inference_latency_ms', 'Inference request latency (submit to result), ms', per((x) => x.latencyMs)),
    histogram('meridian_inference_batch_size', 'Rows per ONNX session run', per((x) => x.batchSize)),
    gauge('meridian_inference_queue_depth', 'Rows waiting for the next batch', (x) => x.queueDepth),
    gauge('meridian_inference_requests_total', 'Inference requests served', (x) => x.requests),
    gauge('meridian_inference_errors_total', 'Inference requests failed', (x) => x.errors),
  ].join('\n');
}
