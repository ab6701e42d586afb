import { ValidationError } from '../../src/common/errors';
import { decodeCursor, encodeCursor, pageSize, toPage } from '../../src/common/pagination';

describe('pagination', () => {
  it('round-trips cursors', () => {
    expect(decodeCursor(encodeCursor(['2026-01-01T00:00:00.000Z', '42']), 2)).toEqual(['2026-01-01T00:00:00.000Z', '42']);
  });

  it('rejects foreign cursors as BAD_USER_INPUT on "after"', () => {
    for (const bad of ['nonsense', encodeCursor(['1', '2']), Buffer.from('{"a":1}').toString('base64url')]) {
      try {
        decodeCursor(bad, 1);
        throw new Error('accepted');
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        expect((e as ValidationError).issues[0]!.path).toBe('after');
      }
    }
  });

  it('bounds first to 1..100', () => {
    expect(pageSize(undefined)).toBe(20);
    expect(pageSize(100)).toBe(100);
    expect(() => pageSize(101)).toThrow(/first/);
    expect(() => pageSize(0)).toThrow(/first/);
  });

  it('reports hasNextPage from the extra row', () => {
    const page = toPage([1, 2, 3], 2, (n) => [n]);
    expect(page.items).toEqual([1, 2]);
    expect(page.hasNextPage).toBe(true);
    expect(decodeCursor(page.cursors[1]!, 1)).toEqual(['2']);
  });
});
