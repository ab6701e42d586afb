/**
 * Promotions made by other processes, as they happen (real Postgres): the registry announces every
 * activation on MODEL_CHANNEL (ModelVersionRepository.announce), and each server LISTENs on a
 * connection of its own and syncs from the database when told. Notifications sent while the
 * connection is down are lost, so after every reconnect the server syncs as well; the periodic
 * sync (MERIDIAN_MODEL_SYNC_MS) stays as the fallback, and the only way on the embedded database.
 */
import { Client } from 'pg';
import type { Logger } from '../common/logger';

export const MODEL_CHANNEL = 'meridian_model_versions';
const RECONNECT_MS = 1_000;

export class ModelChangeListener {
  private client: Client | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly databaseUrl: string,
    /** Called on every announcement and after every (re)connect. */
    private readonly onChange: () => void,
    private readonly logger: Logger,
  ) {}

  /** Whether the listening connection is up. */
  get connected(): boolean {
    return this.client !== null;
  }

  /** Resolves once listening; a failed first connect retries in the background (the poll covers the gap). */
  async start(): Promise<void> {
    await this.connect(false);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private async connect(reconnecting: boolean): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.databaseUrl, application_name: 'meridian-model-listener' });
    client.on('notification', (n) => {
      if (n.channel === MODEL_CHANNEL) this.onChange();
    });
    client.on('error', (err) => this.lost(client, err.message));
    client.on('end', () => this.lost(client, 'connection ended'));
    try {
      await client.connect();
      await client.query(`LISTEN ${MODEL_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      this.lost(client, err instanceof Error ? err.message : String(err));
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    if (reconnecting) {
      this.logger.info('model change listener reconnected');
      this.onChange(); // what was announced while disconnected
    }
  }

  private lost(client: Client, why: string): void {
    if (this.stopped || (this.client !== null && this.client !== client) || this.retry) return;
    this.client = null;
    this.logger.warn({ why }, 'model change listener lost its connection; retrying (the periodic sync covers the gap)');
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.connect(true);
    }, RECONNECT_MS);
    this.retry.unref();
  }
}
