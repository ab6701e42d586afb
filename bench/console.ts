/**
 * Time to data of each console view (issue 19), on the full demo data: a built server on a fresh
 * bench database seeded with the demo (60k events), Debian's Chromium through playwright-core, the
 * key already entered (sessionStorage). For each view × role × screen size: the time from
 * navigation until the view shows its data (the view's `ready` selector), cold (a new browser
 * context: nothing cached) and warm (the same view again in that context), median of three. The
 * baseline, measured in the same run, is the shell alone: navigation until the header names the
 * key's role. Not asserted anywhere; the numbers go to docs/console.md.
 *   node dist/bench/console.js [--quick]
 */
import { Client } from 'pg';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { BENCH_ADMIN_KEY, databaseUrl, dropDatabase, freshDatabase, markdownTable, printReport, startServer } from './bench-utils';

type Role = 'admin' | 'partner' | 'frontend';

interface View {
  readonly name: string;
  readonly hash: string;
  readonly roles: readonly Role[];
  /** Present once the view shows its data. */
  readonly ready: string;
}

const VIEWS: readonly View[] = [
  { name: 'map', hash: '#/map', roles: ['admin', 'partner'], ready: '#map[data-rendered="1"][data-cells]:not([data-cells="0"])' },
  { name: 'trends', hash: '#/trends', roles: ['admin', 'partner'], ready: '#trend-result .chart[data-points]' },
  { name: 'user', hash: '#/user', roles: ['frontend'], ready: '#prediction' },
  { name: 'models', hash: '#/models', roles: ['admin'], ready: '#versions table' },
  { name: 'keys', hash: '#/keys', roles: ['admin'], ready: '#keys table' },
  { name: 'explorer', hash: '#/explorer', roles: ['admin'], ready: '#explorer .graphiql-container' },
];
const SIZES = { laptop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } } as const;
const DB = 'meridian_bench_console';

async function gqlAs(url: string, key: string, query: string, variables: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function keys(url: string): Promise<Record<Role, string>> {
  const pg = new Client({ connectionString: databaseUrl(DB) });
  await pg.connect();
  const [top] = (await pg.query<{ id: string }>(`SELECT user_id::text AS id FROM events GROUP BY user_id ORDER BY count(*) DESC LIMIT 1`)).rows;
  await pg.end();
  const create = async (role: string, userId?: string) =>
    ((await gqlAs(url, BENCH_ADMIN_KEY, `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }`, { i: { name: `bench ${role}`, role, userId } })).createApiKey as { secret: string }).secret;
  return { admin: BENCH_ADMIN_KEY, partner: await create('PARTNER'), frontend: await create('FRONTEND', top!.id) };
}

async function context(browser: Browser, key: string, size: keyof typeof SIZES): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport: SIZES[size], isMobile: size === 'phone' });
  await ctx.addInitScript(`sessionStorage.setItem('meridian.apiKey', ${JSON.stringify(key)})`);
  return ctx;
}

/** ms from navigation to `selector`, in a page of `ctx`. */
async function timeTo(ctx: BrowserContext, url: string, selector: string): Promise<number> {
  const page = await ctx.newPage();
  const t = performance.now();
  await page.goto(url);
  await page.waitForSelector(selector, { timeout: 120_000, state: 'attached' });
  const ms = performance.now() - t;
  await page.close();
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runConsoleBench(opts: { quick: boolean }): Promise<string> {
  const repeats = opts.quick ? 1 : 3;
  const dbUrl = await freshDatabase(DB);
  const server = await startServer({ DATABASE_URL: dbUrl, MERIDIAN_SEED_DEMO: 'true', MERIDIAN_JOB_WORKER: 'false' });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--disable-background-networking'],
  });
  try {
    const base = server.url.replace('/graphql', '/console/');
    const k = await keys(server.url);
    const rows: (string | number)[][] = [];
    for (const size of ['laptop', 'phone'] as const) {
      for (const view of VIEWS) {
        for (const role of view.roles) {
          const shell: number[] = [];
          const cold: number[] = [];
          const warm: number[] = [];
          for (let i = 0; i < repeats; i++) {
            const s = await context(browser, k[role], size);
            shell.push(await timeTo(s, `${base}#/none`, `#viewer:has-text("${role}")`));
            await s.close();
            const ctx = await context(browser, k[role], size);
            cold.push(await timeTo(ctx, `${base}${view.hash}`, view.ready));
            warm.push(await timeTo(ctx, `${base}${view.hash}`, view.ready));
            await ctx.close();
          }
          const sh = median(shell);
          rows.push([view.name, role, size, Math.round(sh), Math.round(median(cold)), Math.round(median(warm)), (median(cold) / sh).toFixed(1)]);
          process.stderr.write(`${view.name} ${role} ${size}: cold ${Math.round(median(cold))} ms\n`);
        }
      }
    }
    return [
      `### Console time to data (${repeats === 1 ? 'quick, 1 load' : `median of ${repeats}`}, demo data, headless Chromium on SwiftShader)`,
      '',
      markdownTable(['view', 'role', 'size', 'shell ms (baseline)', 'cold ms', 'warm ms', 'cold / shell'], rows),
    ].join('\n');
  } finally {
    await browser.close();
    await server.stop();
    await dropDatabase(DB);
  }
}

if (require.main === module) printReport(runConsoleBench({ quick: process.argv.includes('--quick') }));
