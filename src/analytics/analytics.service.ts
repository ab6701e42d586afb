/**
 * The analytics facade registered in the service container: one object per process holding the
 * aggregate engine and the services built on it. Every method takes an AnalyticsAccess (null:
 * full access); the Security layer decides which callers are restricted.
 */
import type { DataSource } from 'typeorm';
import { AggregateService } from './aggregate.service';
import type { AnalyticsAccess } from './analytics.model';
import { DistributionService } from './distribution.service';
import { HotspotService } from './hotspot.service';
import { ProfileService } from './profile.service';
import { RegionRollups } from './region-rollups';
import { SeriesService } from './series.service';

export interface AnalyticsOptions {
  /** k for restricted callers (config kAnonymityMin, MERIDIAN_K_ANONYMITY). Defaults to 10. */
  readonly kAnonymityMin?: number;
}

export class AnalyticsService {
  readonly regions: RegionRollups;
  readonly aggregate: AggregateService;
  readonly series: SeriesService;
  readonly hotspot: HotspotService;
  readonly distribution: DistributionService;
  readonly profile: ProfileService;
  private readonly kAnonymityMin: number;

  constructor(ds: DataSource, opts: AnalyticsOptions = {}) {
    this.kAnonymityMin = opts.kAnonymityMin ?? 10;
    this.regions = new RegionRollups(ds);
    this.aggregate = new AggregateService(ds, this.regions);
    this.series = new SeriesService(ds, this.aggregate);
    this.hotspot = new HotspotService(ds, this.aggregate);
    this.distribution = new DistributionService(ds, this.aggregate);
    this.profile = new ProfileService(ds);
  }

  /** The access of a partner client: cells under the configured k are suppressed. */
  partnerAccess(): AnalyticsAccess {
    return { kAnonymity: this.kAnonymityMin };
  }

  /** What a caller of this role may see: partners are k-anonymized, everyone else reads in full. */
  accessFor(role: string): AnalyticsAccess | null {
    return role === 'partner' ? this.partnerAccess() : null;
  }
}
