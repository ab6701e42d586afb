/** GET /metrics in the Prometheus text format; admin key required unless MERIDIAN_METRICS_PUBLIC. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiKeyService } from '../auth/api-key.service';
import type { Metrics } from '../observability/metrics';
import { presentedKey } from './graphql-handler';
import { sendJson } from './respond';

export function createMetricsHandler(metrics: Metrics, apiKeys: ApiKeyService, isPublic: boolean) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!isPublic) {
      const key = presentedKey(req);
      const principal = key ? await apiKeys.authenticate(key) : null;
      if (!principal) return sendJson(res, 401, { error: 'an admin API key is required' }, { 'www-authenticate': 'Bearer' });
      if (principal.role !== 'admin') return sendJson(res, 403, { error: 'an admin API key is required' });
    }
    const text = await metrics.render();
    res.writeHead(200, { 'content-type': metrics.contentType });
    res.end(text);
  };
}
