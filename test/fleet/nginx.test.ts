/**
 * The load balancer configuration docs/deploy.md gives (deploy/nginx.conf), run for real in front of
 * two built servers: requests are spread over both, graphql-ws subscriptions pass through, and when
 * one server is SIGKILLed the balancer sends everything to the other. nginx comes from Debian's
 * packages (.ci/run installs it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Database } from '../../src/db/database';
import { TEST_ADMIN_KEY } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { subscribeWs, waitFor } from '../jobs/jobs-helpers';
import { Fleet, post, realPostgres, type Server } from './fleet-processes';

const ROOT = path.resolve(__dirname, '../..');
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));

let db: Database;
let fleet: Fleet;
let servers: Server[];
let nginx: ChildProcess | null = null;
let url: string;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  if (!realPostgres) return;
  if (!NGINX) throw new Error('nginx is not installed: apt-get install nginx-light (.ci/run installs it)');
  db = await openTestDatabase();
  fleet = new Fleet(db);
  await fleet.init();
  servers = await Promise.all([fleet.startServer(), fleet.startServer()]);
  const port = await freePort();
  const hostPort = (s: Server) => new URL(s.url).host;
  const conf = fs
    .readFileSync(path.join(ROOT, 'deploy/nginx.conf'), 'utf8')
    .replace('127.0.0.1:4001', hostPort(servers[0]!))
    .replace('127.0.0.1:4002', hostPort(servers[1]!))
    .replace('listen 127.0.0.1:8080;', `listen 127.0.0.1:${port};`);
  expect(conf).toContain(hostPort(servers[1]!)); // the shipped file still has the lines the docs describe
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-nginx-'));
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  nginx = spawn(NGINX, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  nginx.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  url = `http://127.0.0.1:${port}/graphql`;
  await waitFor(`nginx on ${port} (${stderr})`, async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok, 10_000, 100);
}, 120_000);

afterAll(async () => {
  nginx?.kill('SIGTERM');
  fleet?.killAll();
  await db?.close();
});

(realPostgres ? describe : describe.skip)('nginx in front of two servers (deploy/nginx.conf)', () => {
  it('spreads requests over both servers and carries graphql-ws subscriptions', async () => {
    const upstreams = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const a = await post(url, `{ categories { name } }`);
      expect(a.ok).toBe(true);
      upstreams.add(a.headers!.get('x-meridian-upstream')!);
    }
    expect([...upstreams].sort()).toEqual(servers.map((s) => new URL(s.url).host).sort());

    // A queued job (no worker here), watched through the balancer, then cancelled: the stream ends with it.
    const start = await post(url, `mutation($i: StartFineTuningInput!) { startFineTuning(input: $i) { id } }`, {
      i: { modelKind: 'NEXT_ITEM', dataWindow: { from: '2026-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z' }, idempotencyKey: `nginx-${Date.now()}` },
    });
    expect(start.ok).toBe(true);
    const id = (start.data!.startFineTuning as { id: string }).id;
    const sub = subscribeWs<{ trainingJobProgress: { status: string } }>(url, `subscription($id: ID!) { trainingJobProgress(id: $id) { status } }`, { id }, TEST_ADMIN_KEY);
    await waitFor('the first event', async () => sub.results.length > 0, 10_000, 50);
    expect(sub.results[0]!.data!.trainingJobProgress.status).toBe('QUEUED');
    expect((await post(url, `mutation($id: ID!) { cancelTrainingJob(id: $id) { status } }`, { id })).ok).toBe(true);
    await sub.finished;
    await sub.dispose();
    expect(sub.results.at(-1)!.data!.trainingJobProgress.status).toBe('CANCELLED');
  });

  it('sends everything to the other server when one is SIGKILLed under load', async () => {
    const failedAt: number[] = [];
    let killedAt = Infinity;
    const traffic = fleet.load([url], (a) => {
      if (!a.ok) failedAt.push(Date.now());
    });
    await new Promise((r) => setTimeout(r, 1_000));
    servers[0]!.child.kill('SIGKILL');
    killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 3_000));
    const [counts] = await traffic.stop();
    process.stderr.write(`nginx, one server killed: ${JSON.stringify(counts)}, failures ${JSON.stringify(failedAt.map((t) => t - killedAt))} ms after the kill\n`);
    // Only a request the killed server already had can fail (nginx does not resend a POST it
    // delivered): at most one per client loop, at the moment of the kill.
    expect(counts!.failed).toBeLessThanOrEqual(2);
    for (const t of failedAt) expect(t - killedAt).toBeLessThan(500);
    expect(counts!.ok).toBeGreaterThan(20);
  });
});
