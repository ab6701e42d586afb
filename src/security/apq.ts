/**
 * Automatic persisted queries (Apollo's APQ protocol), handled here rather than by Apollo so an
 * unknown hash is a 4xx and the partner allow-list sees the resolved text: a client sends the
 * SHA-256 of its query; unknown hashes are answered PERSISTED_QUERY_NOT_FOUND and the client
 * retries with hash + text, which is verified and remembered (bounded LRU).
 */
export class ApqCache {
  private readonly entries = new Map<string, string>();

  constructor(private readonly capacity = 10_000) {}

  get(hash: string): string | undefined {
    const q = this.entries.get(hash);
    if (q !== undefined) {
      this.entries.delete(hash); // refresh recency
      this.entries.set(hash, q);
    }
    return q;
  }

  set(hash: string, query: string): void {
    this.entries.delete(hash);
    this.entries.set(hash, query);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }
}
