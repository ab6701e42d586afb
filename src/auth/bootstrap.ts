/**
 * First start: with no MERIDIAN_ADMIN_KEY and no active admin key, create one and print it once
 * (on stderr, outside the JSON logs, which must never carry secrets).
 */
import type { Config } from '../config/config';
import type { Logger } from '../common/logger';
import type { ApiKeyService } from './api-key.service';

export async function ensureAdminKey(apiKeys: ApiKeyService, config: Config, logger: Logger): Promise<void> {
  if (config.security.adminKey) return;
  if ((await apiKeys.countActiveAdmins()) > 0) return;
  const created = await apiKeys.create({ name: 'initial admin', role: 'admin' });
  logger.warn({ keyId: created.record.id }, 'no admin key existed: created one (printed once on stderr)');
  process.stderr.write(
    `\n  Meridian admin API key (shown once, store it now):\n\n    ${created.secret}\n\n` +
      `  Use it as: Authorization: Bearer <key>. Create more with the createApiKey mutation or npm run keys.\n\n`,
  );
}
