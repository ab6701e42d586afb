/**
 * Keeps a revoked key from living on in open WebSockets: every `everyMs` the key of each
 * authenticated socket is checked against the api_keys table (one query for all keys, bypassing
 * ApiKeyService's lookup cache, which HTTP requests keep using) and the sockets of a key that was
 * revoked or deleted are closed with 4403 Forbidden. A key revoked by another process sharing the
 * database is seen within one period plus one query. MERIDIAN_ADMIN_KEY (keyId null) lives as long
 * as the configuration does. A check that fails
 * (database unreachable) leaves the sockets open and is logged: a database blip should not drop
 * every subscriber, and the next period checks again.
 */
import { CloseCode } from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { ApiKeyService } from '../auth/api-key.service';
import type { Logger } from '../common/logger';

export interface KeyedSocket {
  readonly socket: WebSocket;
  /** The api_keys id of the key presented at connection_init (null: MERIDIAN_ADMIN_KEY). */
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
      for (const s of this.sockets) if (s.keyId !== null) byKey.set(s.keyId, [...(byKey.get(s.keyId) ?? []), s]);
      const live = await this.apiKeys.unrevoked([...byKey.keys()]);
      for (const [keyId, group] of byKey) {
        if (live.has(keyId)) continue;
        this.log.info({ keyId, sockets: group.length }, 'closing the websockets of a revoked key');
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
