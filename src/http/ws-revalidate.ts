/**
 * Keeps a revoked key from living on in open WebSockets: every `everyMs` the key of each
 * authenticated socket is authenticated again (once per distinct key) and the sockets of a key
 * that no longer authenticates as an admin are closed with 4403 Forbidden. ApiKeyService's
 * lookup cache is cleared first, so a key revoked by another process sharing the database is
 * seen within one period plus one query, not when its cache entry expires. A check that fails
 * (database unreachable) leaves the sockets open and is logged: a database blip should not drop
 * every subscriber, and the next period checks again.
 */
import { CloseCode } from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { ApiKeyService } from '../auth/api-key.service';
import type { Logger } from '../common/logger';

export interface KeyedSocket {
  readonly socket: WebSocket;
  /** The key presented at connection_init. */
  readonly key: string;
  readonly keyId: string | null;
}

export class KeyRevalidator {
  private readonly sockets = new Set<KeyedSocket>();
  private readonly timer: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly apiKeys: ApiKeyService,
    private readonly log: Logger,
    everyMs: number,
  ) {
    this.timer = setInterval(() => void this.check(), everyMs);
    this.timer.unref();
  }

  add(s: KeyedSocket): void {
    this.sockets.add(s);
  }

  delete(s: KeyedSocket): void {
    this.sockets.delete(s);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass; skipped while the previous one still runs. */
  async check(): Promise<void> {
    if (this.running || this.sockets.size === 0) return;
    this.running = true;
    try {
      const byKey = new Map<string, KeyedSocket[]>();
      for (const s of this.sockets) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
      this.apiKeys.clearCache();
      for (const [key, group] of byKey) {
        const principal = await this.apiKeys.authenticate(key);
        if (principal?.role === 'admin') continue;
        this.log.info({ keyId: group[0]?.keyId, sockets: group.length }, 'closing the websockets of a revoked key');
        for (const s of group) {
          this.sockets.delete(s);
          s.socket.close(CloseCode.Forbidden, 'API key revoked');
        }
      }
    } catch (err) {
      this.log.warn({ err }, 'could not re-check websocket keys; sockets left open until the next check');
    } finally {
      this.running = false;
    }
  }
}
