/**
 * The console's own operations ship with the server and are on the partner allow-list from the
 * start (issue 19): a partner key can run each of them, word for word, without an admin
 * registering anything; anything else stays refused, and what the operation reads is still
 * authorised per field. The list is written by the console build (dist/console/operations.json).
 */
import fs from 'node:fs';
import path from 'node:path';
import { useTestApp } from '../helpers/app';
import { bearer, createKey } from '../helpers/keys';

const OPS = path.resolve(__dirname, '../../dist/console/operations.json');
const t = useTestApp({ MERIDIAN_LOAD_MODELS: 'false', MERIDIAN_JOB_WORKER: 'false' });

async function asPartner(key: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(t.app.url, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(key) }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] } };
}

describe('the console operations on the partner allow-list', () => {
  const ops = JSON.parse(fs.readFileSync(OPS, 'utf8')) as { name: string; query: string; partner: boolean }[];
  const op = (name: string) => ops.find((o) => o.name === name)!.query;

  it('are all named, and include what the analytics views send', () => {
    expect(ops.map((o) => o.name)).toEqual(expect.arrayContaining(['Viewer', 'DataExtent', 'Regions', 'MapCells', 'Trends']));
  });

  it('run for a partner key as shipped, with no admin registering them', async () => {
    const key = await createKey(t.app, 'PARTNER');
    const viewer = await asPartner(key, op('Viewer'));
    expect(viewer.status).toBe(200);
    expect(viewer.body.data).toEqual({ viewer: expect.objectContaining({ role: 'PARTNER' }) });
    const extent = await asPartner(key, op('DataExtent'));
    expect(extent.body.errors).toBeUndefined();
    const { from, to } = (extent.body.data!.dataExtent as { from: string; to: string });
    const cells = await asPartner(key, op('MapCells'), { input: { metric: 'EVENTS', bucket: 'MONTH', from, to, grid: { h3Resolution: 5 } } });
    expect(cells.body.errors).toBeUndefined();
    expect(Array.isArray(cells.body.data!.aggregates)).toBe(true);
  });

  it('admit only their exact text: a changed operation stays refused', async () => {
    const key = await createKey(t.app, 'PARTNER');
    const changed = await asPartner(key, op('Viewer').replace('role', 'role name'));
    expect(changed.status).toBe(403);
  });

  it('hold only what partner pages need: admin-only console operations stay off the allow-list', async () => {
    const key = await createKey(t.app, 'PARTNER');
    for (const name of ['TrainingJobs', 'ApiKeys', 'CreateApiKey', 'PromoteModelVersion', 'UserPage', 'StartConversation', 'SendMessage', 'HandoffQueue']) {
      expect((await asPartner(key, op(name))).status).toBe(403);
    }
    const listed = await t.db.dataSource.query<{ name: string }[]>(`SELECT name FROM persisted_operations WHERE name LIKE 'console %' ORDER BY name`);
    expect(listed.map((r) => r.name)).toEqual(ops.filter((o) => o.partner).map((o) => `console ${o.name}`).sort());
  });

  it('drop an older console text at the next start, and leave an admin-registered operation its name', async () => {
    const persisted = t.app.services.persistedOperations;
    await persisted.register('console Old', 'query Old { categories { id } }');
    await persisted.register('my regions', op('Regions'));
    await persisted.syncNamed('console ', ops.filter((o) => o.partner));
    const names = (await persisted.list()).map((o) => o.name);
    expect(names).not.toContain('console Old');
    expect(names).toContain('my regions');
    expect(names).not.toContain('console Regions');
  });
});

describe('dataExtent', () => {
  it('spans the events in whole UTC days', async () => {
    const key = await createKey(t.app, 'PARTNER');
    const r = await asPartner(key, `query DataExtent { dataExtent { from to } }`);
    const [row] = await t.db.dataSource.query<{ min: Date; max: Date }[]>(`SELECT min(occurred_at) AS min, max(occurred_at) AS max FROM events`);
    const { from, to } = r.body.data!.dataExtent as { from: string; to: string };
    expect(from.endsWith('T00:00:00.000Z') && to.endsWith('T00:00:00.000Z')).toBe(true);
    expect(Date.parse(from)).toBeLessThanOrEqual(new Date(row!.min).getTime());
    expect(Date.parse(from)).toBeGreaterThan(new Date(row!.min).getTime() - 86_400_000);
    expect(Date.parse(to)).toBeGreaterThan(new Date(row!.max).getTime());
    expect(Date.parse(to)).toBeLessThanOrEqual(new Date(row!.max).getTime() + 86_400_000);
  });
});
