/**
 * The embedded database off the main thread, and one process per data folder (issue 16: a 6 s
 * query stalled /healthz for 6 s; `npm run import` could open the folder the server had open).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { silentLogger } from '../../src/common/logger';
import { type EmbeddedDatabase, startEmbedded } from '../../src/db/embedded';
import { FolderInUseError } from '../../src/db/folder-lock';
import { startHttpServer } from '../../src/http/http-server';

jest.setTimeout(120_000);

let dir: string;
let db: EmbeddedDatabase;

beforeAll(async () => {
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-embedded-')), 'pglite');
  db = await startEmbedded({ dataDir: dir, maxConnections: 4 }, silentLogger());
});

afterAll(async () => {
  await db?.close();
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
});

describe('one process per embedded data folder', () => {
  it('refuses a second opening of a folder in use, naming the process that holds it', async () => {
    const err = await startEmbedded({ dataDir: dir, maxConnections: 1 }, silentLogger()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FolderInUseError);
    expect((err as Error).message).toContain(`process ${process.pid}`);
    expect((err as Error).message).toContain(dir);
  });

  it('takes over the lock of a process that is gone', async () => {
    const other = path.join(path.dirname(dir), 'stale');
    fs.writeFileSync(`${other}.lock`, JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), startedAt: 'then', command: 'crashed' }));
    const second = await startEmbedded({ dataDir: other, maxConnections: 1 }, silentLogger());
    expect(JSON.parse(fs.readFileSync(`${other}.lock`, 'utf8')).pid).toBe(process.pid);
    await second.close();
    expect(fs.existsSync(`${other}.lock`)).toBe(false);
  });
});

describe('a slow embedded query', () => {
  it('does not stall the event loop: /healthz p99 stays under 100 ms while it runs', async () => {
    const http = await startHttpServer('127.0.0.1', 0, silentLogger());
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const started = performance.now();
      let done = false;
      const slow = client.query(`SELECT count(*) FROM generate_series(1, 10000000) g WHERE g % 7 = 3`).finally(() => (done = true));
      const latencies: number[] = [];
      while (!done) {
        const t0 = performance.now();
        const res = await fetch(`http://127.0.0.1:${http.port}/healthz`);
        await res.text();
        latencies.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
      await slow;
      const queryMs = performance.now() - started;
      latencies.sort((a, b) => a - b);
      const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!;
      process.stderr.write(`slow query ${queryMs.toFixed(0)} ms; /healthz n=${latencies.length} p50 ${latencies[latencies.length >> 1]!.toFixed(1)} ms p99 ${p99.toFixed(1)} ms max ${latencies.at(-1)!.toFixed(1)} ms\n`);
      expect(queryMs).toBeGreaterThan(1000); // the query is slow enough to matter
      expect(latencies.length).toBeGreaterThan(10);
      expect(p99).toBeLessThan(100);
    } finally {
      await client.end();
      await http.close();
    }
  });
});
