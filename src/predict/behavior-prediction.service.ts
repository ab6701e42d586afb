/**
 * Behavior predictions: next action (view / cart / purchase / leave) and purchase probability
 * within any horizon. Features are read fresh per call; many users share one SQL statement and
 * one model run (the resolver's DataLoader passes them together).
 */
import type { DataSource } from 'typeorm';
import { NotFoundError, ValidationError } from '../common/errors';
import type { ModelRegistry } from '../inference/model-registry';
import { float32, int64 } from '../inference/tensor';
import { behaviorFeatures } from './behavior-features';
import { purchaseProbabilityAt } from './purchase-horizon';
import { UserHistoryRepository } from './user-history.repository';

export interface ActionProbabilityData {
  readonly action: string;
  readonly probability: number;
}

export interface BehaviorPredictionData {
  readonly userId: string;
  /** In the model's action order; probabilities sum to 1. */
  readonly nextAction: readonly ActionProbabilityData[];
  readonly horizonsDays: readonly number[];
  /** P(a purchase within horizonsDays[i]), non-decreasing. */
  readonly purchaseWithin: readonly number[];
  readonly modelVersion: string;
  readonly predictedAt: Date;
}

/** Longest horizon a caller may ask for, days. */
export const MAX_HORIZON_DAYS = 365;

export class BehaviorPredictionService {
  private readonly histories: UserHistoryRepository;

  constructor(
    ds: DataSource,
    private readonly models: ModelRegistry,
  ) {
    this.histories = new UserHistoryRepository(ds);
  }

  async predict(userId: string, now = new Date()): Promise<BehaviorPredictionData> {
    const [r] = await this.predictMany([userId], now);
    if (r instanceof Error) throw r;
    return r!;
  }

  /** In key order; an unknown user gets a NotFoundError in its place (DataLoader semantics). */
  async predictMany(userIds: readonly string[], now = new Date()): Promise<(BehaviorPredictionData | Error)[]> {
    return this.models.use('behavior', async (model) => {
      const m = model.manifest;
      const histories = await this.histories.histories(userIds, now, m.maxLen);
      const known = histories.map((h, i) => (h ? i : -1)).filter((i) => i >= 0);
      if (known.length === 0) return userIds.map((id) => new NotFoundError('User', id));
      const L = m.maxLen;
      const F = m.profileFeatures.length;
      const types = new BigInt64Array(known.length * L);
      const ages = new Float32Array(known.length * L);
      // Models trained before the item-repeats input do not list it (and must not be fed it).
      const repeats = m.inputs.some((i) => i.name === 'event_item_repeats') ? new Float32Array(known.length * L) : null;
      const profile = new Float32Array(known.length * F);
      known.forEach((userIndex, row) => {
        const h = histories[userIndex]!;
        const f = behaviorFeatures(h.events, h.createdAt, now.getTime(), m);
        types.set(f.eventTypes, row * L);
        ages.set(f.eventAges, row * L);
        repeats?.set(f.eventItemRepeats, row * L);
        profile.set(f.profile, row * F);
      });
      const out = await model.run({
        event_types: int64(types, [known.length, L]),
        event_ages: float32(ages, [known.length, L]),
        ...(repeats ? { event_item_repeats: float32(repeats, [known.length, L]) } : {}),
        profile: float32(profile, [known.length, F]),
      });
      const next = out.next_action!;
      const within = out.purchase_within!;
      const A = m.actions.length;
      const H = m.horizonsDays.length;
      const results: (BehaviorPredictionData | Error)[] = userIds.map((id) => new NotFoundError('User', id));
      known.forEach((userIndex, row) => {
        const raw = Array.from(next.data.subarray(row * A, (row + 1) * A) as Float32Array, Number);
        // Softmax output sums to 1 in float32; renormalise in float64 so clients see an exact 1.
        const total = raw.reduce((a, b) => a + b, 0);
        const purchase = Array.from(within.data.subarray(row * H, (row + 1) * H) as Float32Array, Number);
        results[userIndex] = {
          userId: userIds[userIndex]!,
          nextAction: m.actions.map((action, j) => ({ action, probability: raw[j]! / total })),
          horizonsDays: m.horizonsDays,
          purchaseWithin: purchase,
          modelVersion: model.version,
          predictedAt: now,
        };
      });
      return results;
    });
  }

  /** P(purchase within horizonDays), interpolated between the model's horizons (purchase-horizon.ts). */
  purchaseProbability(p: BehaviorPredictionData, horizonDays: number): number {
    if (!Number.isFinite(horizonDays) || horizonDays <= 0 || horizonDays > MAX_HORIZON_DAYS) {
      throw ValidationError.of('horizonDays', `must be greater than 0 and at most ${MAX_HORIZON_DAYS}`);
    }
    return purchaseProbabilityAt(p.horizonsDays, p.purchaseWithin, horizonDays);
  }
}
