/**
 * The trends and user views in a real browser (issue 19): uPlot charts with hover values, legend,
 * units, the server's trend, partial buckets, presets and URL state; the user view on a phone; and
 * every view for its roles at both sizes with axe-core. One test per defect of the issue.
 */
import type { Page, Request } from 'playwright-core';
import { consoleAvailable, horizontalOverflow, openConsole, seriousViolations, shot, useConsole, type RoleName, type Size } from './console-helpers';

const run = consoleAvailable ? describe : describe.skip;
const DAY = 86_400_000;

/** The Trends operation's requests and the answers the page received, for one page. */
function watchTrends(page: Page) {
  const requests: Request[] = [];
  const failed: Request[] = [];
  const statuses: number[] = [];
  const answers: { input: Record<string, unknown>; data: { timeSeries: { trend: { slopePerDay: number; percentChange: number | null }; points: { bucketStart: string; value: number | null; partial: boolean; anomaly: boolean }[]; forecast?: { points: { lower: number }[] } } } }[] = [];
  const isTrends = (r: Request) => r.url().endsWith('/graphql') && (r.postData() ?? '').includes('query Trends');
  page.on('request', (r) => { if (isTrends(r)) requests.push(r); });
  page.on('requestfailed', (r) => { if (isTrends(r)) failed.push(r); });
  page.on('response', (res) => {
    if (!res.url().endsWith('/graphql')) return;
    statuses.push(res.status());
    const req = res.request();
    if (!isTrends(req)) return;
    void res.json().then((body: { data?: unknown }) => {
      if (body.data) answers.push({ input: (JSON.parse(req.postData()!) as { variables: { input: Record<string, unknown> } }).variables.input, data: body.data as never });
    }).catch(() => undefined);
  });
  return { requests, failed, statuses, answers };
}

/** Waits for the trends view to settle: a chart or an explicit empty state or an error. */
async function settled(page: Page, errors: string[] = []): Promise<void> {
  try {
    await page.waitForSelector('#trend-chart, #trend-result .trend-empty, #trend-result .message.error', { timeout: 90_000 });
  } catch (err) {
    throw new Error(`${String(err)}\npage: ${await page.locator('#page').innerText().catch(() => '?')}\nerrors: ${errors.join('\n')}`, { cause: err });
  }
}

/** The uPlot instance of the first chart in #trend-result, evaluated in the page. */
const U = `document.querySelector('#trend-chart').uplot`;

/** Polls a page expression until it is truthy (waitForFunction compiles strings with eval, which the console's CSP refuses). */
async function until(page: Page, expression: string, timeout = 90_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await page.evaluate<boolean>(`!!(${expression})`))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
    await page.waitForTimeout(100);
  }
}

async function openTrends(rig: ReturnType<typeof useConsole>, role: RoleName, size: Size, query = '') {
  // Watch before the key is entered: the view loads as soon as it is.
  const opened = await openConsole(rig, null, size, `#/trends${query}`);
  const watch = watchTrends(opened.page);
  await opened.page.fill('#key-input', rig.keys[role]);
  await opened.page.click('#key-form button');
  await settled(opened.page, opened.errors);
  for (let i = 0; i < 100 && watch.answers.length === 0; i++) await opened.page.waitForTimeout(50);
  return { ...opened, watch };
}

/** Moves the mouse over bucket `idx` of the chart and reads the legend's value for the series with `cls`. */
async function hoverValue(page: Page, idx: number, cls: string): Promise<string> {
  const pos = await page.evaluate<{ x: number; y: number }>(`(() => {
    const u = ${U}; const r = u.over.getBoundingClientRect();
    return { x: r.left + u.valToPos(u.data[0][${idx}], 'x'), y: r.top + r.height / 2 };
  })()`);
  await page.mouse.move(pos.x, pos.y);
  return (await page.locator(`#trend-result .u-legend .${cls} .u-value`).first().textContent())!.trim();
}

run('trends and user', () => {
  const rig = useConsole();

  it.each([
    ['admin', 'laptop'], ['admin', 'phone'], ['partner', 'laptop'], ['partner', 'phone'], ['admin', 'narrow'], ['partner', 'narrow'],
  ] as [RoleName, Size][])('trends for %s on a %s: a chart with legend, no sideways scroll, no serious axe violation, no page error', async (role, size) => {
    const { page, errors } = await openTrends(rig, role, size);
    const chart = page.locator('#trend-chart');
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(20);
    expect(await chart.getAttribute('role')).toBe('img');
    expect(await chart.getAttribute('aria-label')).toMatch(/points from/);
    const legend = await page.locator('#trend-result .u-legend').textContent();
    for (const name of ['Events', 'Trend (server fit)', 'Forecast']) expect(legend).toContain(name);
    if (role === 'partner') await expect(page.locator('#trend-result .chart-note.privacy').textContent()).resolves.toMatch(/differential privacy.*k-anonymity/s);
    else expect(await page.locator('#trend-result .chart-note.privacy').count()).toBe(0);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await shot(page, `trends-${role}-${size}`);
    expect(await seriousViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 180_000);

  it.each([
    ['admin', 'laptop'], ['admin', 'phone'], ['frontend', 'laptop'], ['frontend', 'phone'], ['frontend', 'narrow'],
  ] as [RoleName, Size][])('user for %s on a %s: prediction bars, recommendations, no sideways scroll, no serious axe violation', async (role, size) => {
    const { page, errors } = await openConsole(rig, role, size, `#/user?user=${rig.frontendUserId}`);
    await page.waitForSelector('#prediction .bars', { timeout: 90_000 });
    await page.waitForSelector('#profile .bars, #profile .message', { timeout: 60_000 });
    expect(await page.locator('#prediction .bar').count()).toBe(4);
    const reasons = await page.locator('#recommendations td:nth-child(5)').allTextContents();
    expect(reasons.length).toBeGreaterThan(0);
    expect(reasons.every((r) => r.trim().length > 5)).toBe(true);
    expect(await page.locator('#profile').textContent()).not.toMatch(/\b1 (purchases|events)\b/);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await shot(page, `user-${role}-${size}`);
    expect(await seriousViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('an unknown user is a message, not a blank page', async () => {
    const { page } = await openConsole(rig, 'admin', 'laptop', '#/user');
    await page.fill('input[name=userId]', '999999999');
    await page.click('form.controls button[type=submit]');
    await page.waitForSelector('#user-result .message.error');
    await page.context().close();
  }, 120_000);

  it('defect: the drawn trend line is the server trend (slope and percent change), not a browser fit', async () => {
    const { page, watch } = await openTrends(rig, 'admin', 'laptop');
    const answer = watch.answers.at(-1)!;
    const server = answer.data.timeSeries.trend;
    const full = answer.data.timeSeries.points.filter((p) => !p.partial);
    const n = Number(await page.getAttribute('#trend-chart', 'data-points'));
    expect(n).toBe(full.length);
    // Hover the first and the last complete bucket and read the trend's value from the legend.
    const idx = await page.evaluate<number[]>(`(() => { const u = ${U}; const xs = u.data[0]; const main = u.data[1];
      const have = xs.map((_, i) => i).filter((i) => main[i] !== null); return [have[0], have[have.length - 1]]; })()`);
    const first = Number((await hoverValue(page, idx[0]!, 'series-trend')).replace(/,/g, ''));
    const last = Number((await hoverValue(page, idx[1]!, 'series-trend')).replace(/,/g, ''));
    const days = (Date.parse(full.at(-1)!.bucketStart) - Date.parse(full[0]!.bucketStart)) / DAY;
    const drawnSlope = (last - first) / days;
    // The legend rounds to whole units: allow that rounding, nothing more.
    expect(Math.abs(drawnSlope - server.slopePerDay)).toBeLessThanOrEqual(1.01 / days + Math.abs(server.slopePerDay) * 0.01);
    if (server.percentChange !== null) expect(Math.abs(((last - first) / first) * 100 - server.percentChange)).toBeLessThan(0.5);
    // And the caption says the same numbers.
    expect(Number(await page.getAttribute('#trend-result .trend-caption', 'data-slope-per-day'))).toBeCloseTo(server.slopePerDay, 6);
    // Hover values carry the date of the bucket and the unit in the legend.
    expect(await page.locator('#trend-result .u-legend .u-series').first().textContent()).toContain(full.at(-1)!.bucketStart.slice(0, 10));
    await page.context().close();
  }, 180_000);

  it('defect: the right-most date is not clipped, on a laptop and on a phone', async () => {
    for (const size of ['laptop', 'phone'] as Size[]) {
      const { page } = await openTrends(rig, 'admin', size);
      const overflow = await page.evaluate<{ right: number; left: number; labels: string[] }>(`(() => {
        const u = ${U}; const axis = u.axes[0]; const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = axis.font[0];
        const width = u.over.parentElement.getBoundingClientRect().width;
        const left = parseFloat(u.over.style.left);
        let right = -Infinity, min = Infinity; const labels = [];
        axis._splits.forEach((s, i) => {
          const text = String(axis._values[i]); labels.push(text);
          const x = left + u.valToPos(s, 'x');
          const w = Math.max(...text.split('\\n').map((line) => ctx.measureText(line).width));
          right = Math.max(right, x + w / 2 - width); min = Math.min(min, x - w / 2);
        });
        return { right, left: min, labels };
      })()`);
      expect(overflow.labels.length).toBeGreaterThan(1);
      expect(overflow.right).toBeLessThanOrEqual(0);
      expect(overflow.left).toBeGreaterThanOrEqual(0);
      await page.context().close();
    }
  }, 180_000);

  it('defect: the conversion axis has distinct percent ticks', async () => {
    const { page } = await openTrends(rig, 'admin', 'laptop', '?metric=CONVERSION&bucket=DAY&range=30d');
    const labels = await page.evaluate<string[]>(`${U}.axes[1]._values.map(String)`);
    expect(labels.length).toBeGreaterThan(2);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels.every((l) => /^\d+(\.\d+)?%$/.test(l))).toBe(true);
    expect(await page.locator('#trend-result .u-legend .series-main').textContent()).toContain('Conversion (purchases ÷ views)');
    const idx = await page.evaluate<number>(`${U}.data[1].findIndex((v) => v !== null)`);
    expect(await hoverValue(page, idx, 'series-main')).toMatch(/^\d+\.\d%$/);
    await page.context().close();
  }, 180_000);

  it('defect: revenue never goes below 0 (forecast band clamped) and says its currency unit on the axis and in the hover', async () => {
    const { page, watch } = await openTrends(rig, 'admin', 'laptop', '?metric=REVENUE&bucket=HOUR&range=7d');
    const answer = watch.answers.at(-1)!;
    const serverLow = Math.min(...(answer.data.timeSeries.forecast?.points ?? []).map((p) => p.lower));
    const y = await page.evaluate<{ min: number; label: string; lows: number[] }>(`(() => { const u = ${U};
      const lo = u.series.findIndex((s) => s.label === 'Forecast low');
      return { min: u.scales.y.min, label: u.axes[1].label, lows: u.data[lo].filter((v) => v !== null) }; })()`);
    expect(y.min).toBe(0);
    expect(Math.min(...y.lows)).toBeGreaterThanOrEqual(0);
    expect(serverLow).toBeLessThan(0); // the server's band does go below 0 here: the clamp is what keeps the axis at 0
    expect(y.label).toContain('currency units');
    expect(await page.locator('#trend-result .u-legend .series-main').textContent()).toContain('currency units');
    const idx = await page.evaluate<number>(`(() => { const u = ${U}; return u.data[1].findIndex((v) => v !== null && v > 0); })()`);
    expect(await hoverValue(page, idx, 'series-main')).toMatch(/^\d[\d,]*\.\d\d$/);
    await page.context().close();
  }, 180_000);

  it('defect: an empty window says so instead of drawing a flat zero chart', async () => {
    const { page } = await openTrends(rig, 'admin', 'laptop', '?metric=EVENTS&bucket=DAY&from=2025-01-01&to=2025-01-31');
    await expect(page.locator('#trend-result .trend-empty').textContent()).resolves.toMatch(/No events between 2025-01-01 and 2025-01-30.*data spans/);
    expect(await page.locator('#trend-result .chart').count()).toBe(0);
    // One click on the offered way out shows the data.
    await page.click('#trend-result .trend-empty button');
    await page.waitForSelector('#trend-chart');
    expect(page.url()).toContain('range=all');
    await page.context().close();
  }, 180_000);

  it('defect: Show is disabled while loading, a newer request cancels the older one, and a partner double click sends one request (no 429)', async () => {
    const { page, watch } = await openTrends(rig, 'partner', 'laptop');
    // Hold Trends answers a moment so the page is visibly loading.
    await page.route('**/graphql', async (route) => {
      if ((route.request().postData() ?? '').includes('query Trends')) await new Promise((r) => setTimeout(r, 1500));
      await route.continue().catch(() => undefined);
    });
    const before = watch.requests.length;
    await page.evaluate(`(() => { const b = document.querySelector('form.controls button[type=submit]'); b.click(); b.click(); })()`);
    expect(await page.locator('form.controls button[type=submit]').isDisabled()).toBe(true);
    expect(watch.requests.length - before).toBe(1);
    // A preset while that request is in flight replaces it: the old one is aborted, the view shows the new window.
    await page.selectOption('select[name=range]', '7d');
    await until(page, `document.querySelector('#trend-chart')?.dataset.points === '7'`);
    expect(watch.requests.length - before).toBe(2);
    expect(watch.failed.length).toBe(1);
    expect(await page.locator('form.controls button[type=submit]').isDisabled()).toBe(false);
    expect(watch.statuses).not.toContain(429);
    await page.context().close();
  }, 180_000);

  it('the choices are kept in the URL: a shared link opens the same view', async () => {
    const { page, watch } = await openTrends(rig, 'admin', 'laptop');
    await page.selectOption('select[name=metric]', 'PURCHASES');
    await page.selectOption('select[name=bucket]', 'WEEK');
    await page.selectOption('select[name=region]', { index: 1 });
    await page.selectOption('select[name=range]', '90d');
    await until(page, `location.hash.includes('range=90d') && location.hash.includes('metric=PURCHASES')`);
    for (let i = 0; i < 600 && watch.answers.at(-1)?.input.bucket !== 'WEEK'; i++) await page.waitForTimeout(100);
    const url = page.url();
    expect(url).toMatch(/bucket=WEEK/);
    expect(url).toMatch(/region=\d+/);
    const first = watch.answers.at(-1)!.input;
    expect(first).toMatchObject({ metric: 'PURCHASES', bucket: 'WEEK' });
    await page.context().close();
    const again = await openTrends(rig, 'admin', 'laptop', url.slice(url.indexOf('#/trends') + '#/trends'.length));
    expect(await again.page.inputValue('select[name=metric]')).toBe('PURCHASES');
    expect(await again.page.inputValue('select[name=bucket]')).toBe('WEEK');
    expect(await again.page.inputValue('select[name=range]')).toBe('90d');
    for (let i = 0; i < 50 && again.watch.answers.length === 0; i++) await again.page.waitForTimeout(100);
    expect(again.watch.answers[0]!.input).toEqual(first);
    await again.page.context().close();
  }, 180_000);

  it('defect: charts fit a 390 px phone and follow their container when it resizes', async () => {
    const { page } = await openTrends(rig, 'admin', 'phone');
    const width = () => page.evaluate<number>(`${U}.width`);
    expect(await width()).toBeLessThanOrEqual(390);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1000, height: 844 });
    await until(page, `${U}.width > 600`);
    await page.setViewportSize({ width: 360, height: 800 });
    await until(page, `${U}.width <= 360`);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.context().close();
  }, 180_000);

  it('defect: probabilities on a phone read as percentages and the next-action bars are readable', async () => {
    const { page } = await openConsole(rig, 'frontend', 'phone');
    await page.waitForSelector('#prediction .bars', { timeout: 90_000 });
    const values = await page.locator('#prediction .bar-value').allTextContents();
    expect(values).toHaveLength(4);
    for (const v of values) expect(v).toMatch(/^(<0\.1|>99\.9|\d{1,3}(\.\d)?)%$/);
    const boxes = await page.evaluate<{ right: number; clipped: boolean; track: number }[]>(`[...document.querySelectorAll('#prediction .bars .bar-value')].map((el) => ({
      right: el.getBoundingClientRect().right, clipped: el.scrollWidth > el.clientWidth + 1, track: el.previousElementSibling.getBoundingClientRect().width }))`);
    for (const b of boxes) {
      expect(b.right).toBeLessThanOrEqual(390);
      expect(b.clipped).toBe(false);
      expect(b.track).toBeGreaterThanOrEqual(80);
    }
    expect(await page.locator('#prediction .purchase-probability').textContent()).toMatch(/1 day (<0\.1|>99\.9|\d{1,3}(\.\d)?)% · 7 days .*% · 30 days .*%/);
    await page.context().close();
  }, 180_000);

  it('defect: a shared link with a region, then "everywhere": the request has no regionIds and the URL drops the region', async () => {
    const res = await fetch(rig.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${rig.keys.admin}` },
      body: JSON.stringify({ query: 'query Regions { regions { id } }' }),
    });
    const regionId = ((await res.json()) as { data: { regions: { id: string }[] } }).data.regions[0]!.id;
    const { page, watch } = await openTrends(rig, 'admin', 'laptop', `?region=${regionId}`);
    expect(watch.answers[0]!.input.where).toEqual({ regionIds: [regionId] });
    await until(page, `document.querySelector('select[name=region]').value === ${JSON.stringify(regionId)}`);
    const before = watch.answers.length;
    await page.selectOption('select[name=region]', '');
    await page.click('form.controls button[type=submit]');
    for (let i = 0; i < 600 && watch.answers.length === before; i++) await page.waitForTimeout(100);
    expect(watch.answers.at(-1)!.input.where).toBeNull();
    expect(page.url()).not.toMatch(/region=/);
    await page.context().close();
  }, 180_000);

  it('defect: a cleared date is a message naming the field, and no request is sent', async () => {
    const { page, watch } = await openTrends(rig, 'admin', 'laptop');
    const before = watch.requests.length;
    await page.fill('input[name=from]', '');
    // The form's `required` check stops a click; a submit that skips it (or a reload from a preset) reaches the page's own check.
    await page.evaluate(`document.querySelector('form.controls').dispatchEvent(new Event('submit', { cancelable: true }))`);
    await expect(page.locator('#trend-result .message.error').textContent()).resolves.toMatch(/^From: pick a start date/);
    expect(await page.locator('#trend-chart').count()).toBe(0);
    await page.fill('input[name=from]', '2030-01-02');
    await page.fill('input[name=to]', '2030-01-01');
    await page.evaluate(`document.querySelector('form.controls').dispatchEvent(new Event('submit', { cancelable: true }))`);
    await expect(page.locator('#trend-result .message.error').textContent()).resolves.toMatch(/From \(2030-01-02\) must be before To \(2030-01-01\)/);
    await page.waitForTimeout(300);
    expect(watch.requests.length).toBe(before);
    expect(await page.locator('form.controls button[type=submit]').isDisabled()).toBe(false);
    await page.context().close();
  }, 180_000);

  it('defect: leaving Trends before the data extent answers sends no Trends query and leaves the next URL alone', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const { page } = await openConsole(rig, null, 'laptop', '#/trends', (p) => {
      void p.route('**/graphql', async (route) => {
        if ((route.request().postData() ?? '').includes('query DataExtent')) await held;
        await route.continue().catch(() => undefined);
      });
    });
    const watch = watchTrends(page);
    await page.fill('#key-input', rig.keys.admin);
    await page.click('#key-form button');
    await page.waitForSelector('form.controls select[name=range]');
    await page.evaluate(`location.hash = '#/user'`);
    await page.waitForSelector('input[name=userId]');
    release();
    await page.waitForTimeout(1500);
    expect(watch.requests.length).toBe(0);
    expect(page.url()).not.toMatch(/metric=|range=/);
    await page.context().close();
  }, 180_000);

  // Last: it adds today's events, which moves the data's end for any later test.
  it('defect: the incomplete current day is marked partial, not drawn as a low value, and kept out of trend and anomalies', async () => {
    // Live data: 48 views a day for the last 7 days, and today's so far (the day is incomplete).
    // In the first minutes after 00:00 UTC today holds nothing yet: wait until it does.
    if (Date.now() % DAY < 120_000) await new Promise((r) => setTimeout(r, 120_000 - (Date.now() % DAY)));
    const now = Date.now();
    const today = now - (now % DAY);
    const [user] = await rig.db.dataSource.query<{ id: string }[]>('SELECT id::text AS id FROM users ORDER BY id LIMIT 1');
    const [product] = await rig.db.dataSource.query<{ id: string }[]>('SELECT id::text AS id FROM products ORDER BY id LIMIT 1');
    const events = [];
    for (let t = today - 7 * DAY; t < now - 60_000; t += 30 * 60_000) {
      events.push({ idempotencyKey: `trend-partial-${t}`, userId: user!.id, productId: product!.id, type: 'VIEW', occurredAt: new Date(t).toISOString() });
    }
    const res = await fetch(rig.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${rig.keys.admin}` },
      body: JSON.stringify({ query: 'mutation Ingest($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }', variables: { e: events } }),
    });
    expect(((await res.json()) as { data: { ingestEvents: { accepted: number } } }).data.ingestEvents.accepted).toBe(events.length);

    const { page, watch } = await openTrends(rig, 'admin', 'laptop', '?metric=EVENTS&bucket=DAY&range=7d');
    const chart = page.locator('#trend-chart');
    expect(await chart.getAttribute('data-partial')).toBe('1');
    expect(await chart.getAttribute('data-points')).toBe('6'); // the six complete days
    expect(await page.locator('#trend-result .partial-note').textContent()).toContain('still under way');
    const drawn = await page.evaluate<{ main: (number | null)[]; partialAt: number; anomalies: number }>(`(() => { const u = ${U};
      const p = u.series.findIndex((s) => s.label === 'Incomplete bucket');
      const a = u.series.findIndex((s) => s.label === 'Anomaly');
      const at = u.data[p].findIndex((v) => v !== null);
      return { main: u.data[1], partialAt: at, anomalies: a < 0 ? 0 : u.data[a].filter((v) => v !== null).length, today: u.data[0][at] }; })()`);
    expect(drawn.main[drawn.partialAt]).toBeNull(); // today is not on the line
    expect(drawn.main.filter((v) => v !== null).every((v) => v === 48)).toBe(true);
    expect(drawn.anomalies).toBe(0);
    const answer = watch.answers.at(-1)!;
    expect(answer.data.timeSeries.points.at(-1)!.partial).toBe(true);
    expect(Date.parse(answer.input.to as string)).toBeLessThanOrEqual(Date.now());
    expect(answer.data.timeSeries.trend.slopePerDay).toBeCloseTo(0, 6); // flat: 48 a day, today's partial count left out
    expect(await hoverValue(page, drawn.partialAt, 'series-partial')).toMatch(/\(so far\)$/);
    await shot(page, 'trends-partial-day');
    await page.context().close();
  }, 180_000);
});
