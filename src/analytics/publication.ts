/**
 * How analytics answers are published to restricted callers (partners), so that no two answers
 * can be subtracted to recover one person's activity (docs/privacy.md):
 * - aligned units only: the time range shrinks to whole buckets (no cut at 21:00 vs 22:00), a
 *   `near` centre snaps to the public 0.01° grid with a radius of at least MIN_PUBLIC_RADIUS_KM in whole km, a
 *   bbox grows to the 0.01° grid, and free-form polygons are refused (region ids serve instead);
 * - every answer is charged ε to the key's daily budget, and every published number carries
 *   Laplace noise (dp-noise.ts), before the k-anonymity threshold is applied to the noisy users.
 * Admins (publication null) get exact answers on exactly the units they ask for.
 */
import type { DataSource } from 'typeorm';
import { DomainError, ErrorCode, ValidationError } from '../common/errors';
import { MIN_PUBLIC_RADIUS_KM, PUBLIC_GRID_DEG, snapToPublicGrid } from '../common/geo';
import type { Area, Selection } from './aggregate.query';
import { type Bucket, floorBucket, nextBucket } from './buckets';
import { DpNoise, type NoiseParams } from './dp-noise';


/** One key's publication: each answer is paid for from its budget. */
export interface Publication {
  /** Charges ε for one answer (throws PRIVACY_BUDGET_EXHAUSTED) and returns the noise source. */
  charge(): Promise<DpNoise>;
}

/** Per-key daily ε budgets and the shared noise secret, both in the database (fleet-wide). */
export class PrivacyLedger {
  private secret: Promise<string> | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly noise: NoiseParams,
    private readonly budgetPerDay: number,
  ) {}

  publicationFor(keyId: string): Publication {
    return { charge: () => this.charge(keyId) };
  }

  private async charge(keyId: string, now = new Date()): Promise<DpNoise> {
    const eps = this.noise.epsilon;
    const spent = await this.ds.query<unknown[]>(
      `INSERT INTO analytics_privacy_budget AS b (key_id, day, spent) VALUES ($1, ($2::timestamptz AT TIME ZONE 'UTC')::date, $3)
       ON CONFLICT (key_id, day) DO UPDATE SET spent = b.spent + EXCLUDED.spent WHERE b.spent + EXCLUDED.spent <= $4
       RETURNING spent`,
      [keyId, now.toISOString(), eps, this.budgetPerDay],
    );
    if (spent.length === 0) {
      throw new DomainError(
        ErrorCode.PRIVACY_BUDGET_EXHAUSTED,
        `This key has spent its privacy budget for today (ε ${this.budgetPerDay}, ${eps} per answer); it renews at 00:00 UTC`,
      );
    }
    this.secret ??= (this.ds.query<{ secret: string }[]>(`SELECT secret FROM analytics_privacy_secret WHERE id = 1`)).then((r) => {
      if (!r[0]) throw new Error('analytics_privacy_secret is empty: migrations did not run');
      return r[0].secret;
    });
    return new DpNoise(await this.secret, this.noise);
  }
}

/** The selection published to a restricted caller: whole `bucket`s and aligned areas. */
export function alignSelection(sel: Selection, bucket: Bucket | 'ALL', path = 'input'): Selection {
  const grain: Bucket = bucket === 'ALL' ? 'DAY' : bucket;
  const start = floorBucket(sel.from, grain);
  const from = start.getTime() === sel.from.getTime() ? start : nextBucket(start, grain);
  const to = floorBucket(sel.to, grain);
  if (from.getTime() >= to.getTime()) {
    throw ValidationError.of(`${path}.from`, `${path}.from…${path}.to must hold at least one whole ${grain} bucket for partner keys`);
  }
  return { ...sel, from, to, area: alignArea(sel.area, `${path}.where`) };
}

function alignArea(area: Area | null, path: string): Area | null {
  if (!area) return null;
  const down = (x: number) => Math.floor(x / PUBLIC_GRID_DEG) * PUBLIC_GRID_DEG;
  const up = (x: number) => Math.ceil(x / PUBLIC_GRID_DEG) * PUBLIC_GRID_DEG;
  switch (area.kind) {
    case 'regions':
      return area;
    case 'polygon':
      throw ValidationError.of(`${path}.polygon`, 'is for admin keys; partners select by regionIds, bbox or near + radiusKm');
    case 'bbox': {
      const b = area.box;
      return {
        kind: 'bbox',
        box: {
          minLatitude: Math.max(-90, down(b.minLatitude)), minLongitude: Math.max(-180, down(b.minLongitude)),
          maxLatitude: Math.min(90, up(b.maxLatitude)), maxLongitude: Math.min(180, up(b.maxLongitude)),
        },
      };
    }
    case 'radius': {
      const km = area.meters / 1000;
      if (km < MIN_PUBLIC_RADIUS_KM) throw ValidationError.of(`${path}.radiusKm`, `must be at least ${MIN_PUBLIC_RADIUS_KM} for partner keys`);
      return { kind: 'radius', center: snapToPublicGrid(area.center), meters: Math.round(km) * 1000 };
    }
  }
}
