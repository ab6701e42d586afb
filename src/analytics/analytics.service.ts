/**
 * The analytics facade registered in the service container: one object per process holding the
 * aggregate engine and the services built on it. Every method takes an AnalyticsAccess (null:
 * full access); the Security layer decides which callers are restricted.
 */
import type { DataSource } from 'typeorm';
import { ConcurrencyGate } from '../common/concurrency-gate';
import { AggregateService } from './aggregate.service';
import type { AnalyticsAccess } from './analytics.model';
import { DistributionService } from './distribution.service';
import { HotspotService } from './hotspot.service';
import { ProfileService } from './profile.service';
import { PrivacyLedger } from './publication';
import { RegionRollups } from './region-rollups';
import { SeriesService } from './series.service';

export interface AnalyticsOptions {
  /** k for restricted callers (config kAnonymityMin, MERIDIAN_K_ANONYMITY). Defaults to 10. */
  readonly kAnonymityMin?: number;
  /** Noise and budgets of partner answers (config dp). Defaults to ε 1 per answer, 100 per key per day, revenue sensitivity 500. */
  readonly dp?: { readonly epsilon: number; readonly budgetPerDay: number; readonly revenueSensitivity: number };
  /** Operations answered at once (config analyticsConcurrency); others queue. Defaults to 1. */
  readonly concurrency?: number;
  /** Longest an operation waits for its turn, ms (config analyticsQueueMs). Defaults to 30000. */
  readonly queueMs?: number;
}

export class AnalyticsService {
  readonly regions: RegionRollups;
  readonly aggregate: AggregateService;
  readonly series: SeriesService;
  readonly hotspot: HotspotService;
  readonly distribution: DistributionService;
  readonly profile: ProfileService;
  private readonly kAnonymityMin: number;
  private readonly ledger: PrivacyLedger;
  /** Every public analytics operation runs through it (resolvers, via `limited`). */
  private readonly gate: ConcurrencyGate;

  constructor(private readonly ds: DataSource, opts: AnalyticsOptions = {}) {
    this.kAnonymityMin = opts.kAnonymityMin ?? 10;
    this.gate = new ConcurrencyGate(opts.concurrency ?? 1, opts.queueMs ?? 30_000, 'analytics');
    const dp = opts.dp ?? { epsilon: 1, budgetPerDay: 100, revenueSensitivity: 500 };
    this.ledger = new PrivacyLedger(ds, { epsilon: dp.epsilon, revenueSensitivity: dp.revenueSensitivity }, dp.budgetPerDay);
    this.regions = new RegionRollups(ds);
    this.aggregate = new AggregateService(ds, this.regions);
    this.series = new SeriesService(ds, this.aggregate);
    this.hotspot = new HotspotService(ds, this.aggregate);
    this.distribution = new DistributionService(ds, this.aggregate);
    this.profile = new ProfileService(ds);
  }

  /** First and last event, widened to whole UTC days (two index lookups on events.occurred_at). */
  async extent(): Promise<{ from: Date | null; to: Date | null }> {
    const [row] = await this.ds.query<{ from: Date | null; to: Date | null }[]>(
      `SELECT date_trunc('day', (SELECT min(occurred_at) FROM events) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS "from",
              date_trunc('day', (SELECT max(occurred_at) FROM events) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day' AS "to"`,
    );
    return { from: row?.from ? new Date(row.from) : null, to: row?.to ? new Date(row.to) : null };
  }

  /** Runs one analytics operation when its turn comes (at most `concurrency` at once in this process). */
  limited<T>(operation: () => Promise<T>): Promise<T> {
    return this.gate.run(operation);
  }

  /**
   * The access of a partner client: cells under the configured k are suppressed; with a key id,
   * answers are also published on aligned units with noise charged to that key's budget
   * (without one: k-anonymity alone, for tools and tests of the threshold).
   */
  partnerAccess(keyId: string | null = null): AnalyticsAccess {
    return { kAnonymity: this.kAnonymityMin, publication: keyId === null ? null : this.ledger.publicationFor(keyId) };
  }

  /** What a caller may see: partners get published answers, everyone else reads in full. */
  accessFor(principal: { readonly role: string; readonly keyId: string | null }): AnalyticsAccess | null {
    return principal.role === 'partner' ? this.partnerAccess(principal.keyId ?? 'config') : null;
  }
}
