/**
 * Serves the built web console (dist/console) at /console/. Files only from that folder (no
 * traversal), with a strict Content-Security-Policy: the page talks to this server only.
 */
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { sendJson } from './respond';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function createStaticHandler(root: string, mount: string) {
  const base = path.resolve(root);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === mount.replace(/\/$/, '')) {
      res.writeHead(301, { location: mount });
      res.end();
      return;
    }
    const rel = decodeURIComponent(url.pathname.slice(mount.length)) || 'index.html';
    const file = path.resolve(base, rel);
    if (!file.startsWith(base + path.sep)) return sendJson(res, 404, { error: 'not found' });
    let data: Buffer;
    try {
      data = await fs.promises.readFile(file);
    } catch {
      const missing = !fs.existsSync(path.join(base, 'index.html'));
      return sendJson(res, 404, { error: missing ? 'the console is not built: run npm run build' : 'not found' });
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': data.length,
      'cache-control': rel === 'index.html' ? 'no-cache' : 'public, max-age=300',
      ...SECURITY_HEADERS,
    });
    res.end(req.method === 'HEAD' ? undefined : data);
  };
}
