/**
 * The web console end to end, in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core): every page against a server with the seeded demo data, a fine-tuning job
 * followed live to done, bad input shown as a message. Screenshots go to test/.tmp/screenshots.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { startTestApp, TEST_ADMIN_KEY } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { TEST_DEMO } from '../helpers/test-data';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(__dirname, '../.tmp/screenshots');
const CONSOLE_DIR = path.resolve(__dirname, '../../dist/console');
const FROM = new Date(TEST_DEMO.anchor.getTime() - 60 * 86_400_000).toISOString().slice(0, 10);
const TO = TEST_DEMO.anchor.toISOString().slice(0, 10);

const run = fs.existsSync(CHROMIUM) && fs.existsSync(path.join(CONSOLE_DIR, 'app.js')) ? describe : describe.skip;

run('web console', () => {
  let db: Database;
  let app: App;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    db = await openTestDatabase();
    app = await startTestApp(db, { MERIDIAN_CONSOLE_DIR: CONSOLE_DIR, MERIDIAN_JOB_POLL_MS: '200' });
    base = app.url.replace('/graphql', '/console/');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await db?.close();
  });

  async function connect(key: string): Promise<void> {
    await page.fill('#key-input', key);
    await page.click('#key-form button');
  }

  async function fillWindow(): Promise<void> {
    await page.fill('input[name=from]', FROM);
    await page.fill('input[name=to]', TO);
  }

  it('shows a clear message for a wrong key, not a blank page', async () => {
    await page.goto(base);
    await connect('mk_000000000000_wrongwrongwrongwrongwrongwrongwrongwrongwro');
    await page.waitForSelector('.message.error');
    expect(await page.textContent('.message.error')).toMatch(/not valid/);
  });

  it('draws the map: cells coloured by value, a legend, and a time slider', async () => {
    await page.goto(base);
    await connect(TEST_ADMIN_KEY);
    await page.waitForSelector('#viewer:has-text("admin")');
    await page.goto(`${base}#/map`);
    await page.waitForSelector('#map-canvas');
    await fillWindow();
    await page.waitForSelector('select[name=area] option >> nth=1', { state: 'attached' });
    await page.selectOption('select[name=area]', { label: 'São Paulo' });
    await page.selectOption('select[name=grid]', '7');
    await page.click('form.controls button[type=submit]');
    await page.waitForSelector('#map-canvas[data-cells]:not([data-cells="0"])', { timeout: 60_000 });
    const cells = Number(await page.getAttribute('#map-canvas', 'data-cells'));
    expect(cells).toBeGreaterThan(3);
    expect(await page.isVisible('.legend .ramp')).toBe(true);
    // the slider steps through buckets and redraws
    const before = await page.textContent('#bucket-label');
    await page.fill('#time-slider', '0');
    await page.dispatchEvent('#time-slider', 'input');
    expect(await page.textContent('#bucket-label')).not.toBe(before);
    // clicking the middle of the drawing opens a cell's time series
    const box = (await page.locator('#map-canvas').boundingBox())!;
    await page.screenshot({ path: path.join(SHOTS, 'map.png') });
    for (const [fx, fy] of [[0.5, 0.5], [0.45, 0.5], [0.55, 0.45], [0.5, 0.55]] as const) {
      await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
      if ((await page.textContent('#cell-detail'))?.startsWith('Cell')) break;
    }
    await page.waitForSelector('#cell-detail svg.chart, #cell-detail .message', { timeout: 30_000 });
  }, 120_000);

  it('draws the trend chart with a series, a trend line and a forecast band', async () => {
    await page.goto(`${base}#/trends`);
    await page.waitForSelector('input[name=from]');
    await fillWindow();
    await page.click('form.controls button[type=submit]');
    await page.waitForSelector('#trend-result svg.chart path.series', { timeout: 60_000 });
    expect(Number(await page.getAttribute('#trend-result path.series', 'data-points'))).toBeGreaterThan(30);
    expect(await page.locator('#trend-result path.trend').count()).toBe(1);
    expect(await page.locator('#trend-result path.forecast-band').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'trends.png') });
  }, 120_000);

  it('shows a user: prediction bars and recommendations with reasons', async () => {
    const [{ user_id: userId }] = await db.dataSource.query(`SELECT user_id FROM events GROUP BY user_id ORDER BY count(*) DESC LIMIT 1`);
    await page.goto(`${base}#/user`);
    await page.fill('input[name=userId]', String(userId));
    await page.click('form.controls button[type=submit]');
    await page.waitForSelector('#prediction .bar', { timeout: 60_000 });
    expect(await page.locator('#prediction .bar').count()).toBe(4);
    await page.waitForSelector('#recommendations tr >> nth=1');
    const reasons = await page.locator('#recommendations td:nth-child(5)').allTextContents();
    expect(reasons.length).toBeGreaterThan(0);
    expect(reasons.every((r) => r.trim().length > 5)).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'user.png') });
    // bad input: an unknown user is a message, not a blank page
    await page.fill('input[name=userId]', '999999999');
    await page.click('form.controls button[type=submit]');
    await page.waitForSelector('#user-result .message.error');
  }, 120_000);

  it('lists model versions and follows a fine-tuning job live to done', async () => {
    await page.goto(`${base}#/models`);
    await page.waitForSelector('#versions table');
    await page.selectOption('select[name=kind]', 'NEXT_ITEM');
    await page.fill('textarea[name=hyperparameters]', '{"epochs": 1}');
    await page.click('#start-job button[type=submit]');
    await page.waitForSelector('#live-progress');
    const seen = new Set<string>();
    const deadline = Date.now() + 420_000;
    let status = '';
    while (Date.now() < deadline) {
      status = (await page.getAttribute('#live', 'data-status')) ?? '';
      if (status) seen.add(status);
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status)) break;
      await page.waitForTimeout(500);
    }
    await page.screenshot({ path: path.join(SHOTS, 'models.png') });
    expect(status).toBe('SUCCEEDED');
    expect(Number(await page.getAttribute('#live', 'data-progress'))).toBe(1);
    expect(seen.size).toBeGreaterThan(1); // it advanced through stages while we watched
    await page.waitForSelector('#jobs td.status-succeeded');
  }, 480_000);
});
