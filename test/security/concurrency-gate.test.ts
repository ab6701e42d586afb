/** The analytics concurrency gate: at most `limit` at once, first in first out, bounded waits. */
import { ConcurrencyGate } from '../../src/common/concurrency-gate';
import { DomainError } from '../../src/common/errors';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('ConcurrencyGate', () => {
  it('runs at most `limit` at once and admits the waiting in arrival order', async () => {
    const gate = new ConcurrencyGate(2, 10_000, 'analytics');
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const job = (i: number) => gate.run(async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await tick();
      running--;
      return i;
    });
    expect(await Promise.all([0, 1, 2, 3, 4, 5].map(job))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('refuses with SERVICE_UNAVAILABLE a caller that would wait too long, and keeps serving', async () => {
    const gate = new ConcurrencyGate(1, 30, 'analytics');
    let release!: () => void;
    const holding = gate.run(() => new Promise<void>((r) => (release = r)));
    const refused = await gate.run(async () => 'never').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).code).toBe('SERVICE_UNAVAILABLE');
    expect(gate.queued).toBe(0);
    release();
    await holding;
    expect(await gate.run(async () => 'next')).toBe('next');
  });

  it('frees the slot when the operation fails', async () => {
    const gate = new ConcurrencyGate(1, 1000, 'analytics');
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'ok')).toBe('ok');
  });
});
