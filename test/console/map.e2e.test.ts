/**
 * The map view in a real browser (issue 19): MapLibre GL + deck.gl on SwiftShader, an offline base
 * layer, the auto grid fitted to the area, region clicks by region id, partner suppression
 * explained, stale state cleared, requests cancelled, hot spots with a legend, a table view, a
 * phone layout without sideways scrolling, and no serious axe violation.
 */
import type { Page, Request } from 'playwright-core';
import { type ConsoleRig, consoleAvailable, horizontalOverflow, openConsole, type RoleName, seriousViolations, shot, SIZES, type Size, useConsole } from './console-helpers';

const run = consoleAvailable ? describe : describe.skip;

interface Posted {
  readonly name: string;
  readonly variables: Record<string, unknown>;
  readonly request: Request;
}

/** Every GraphQL operation the page posts, by operation name. */
function recordOperations(page: Page): Posted[] {
  const seen: Posted[] = [];
  page.on('request', (r) => {
    if (r.method() !== 'POST' || !r.url().endsWith('/graphql')) return;
    const body = r.postDataJSON() as { query: string; variables?: Record<string, unknown> };
    const name = /^\s*(?:query|mutation)\s+(\w+)/.exec(body.query)?.[1] ?? '(anonymous)';
    seen.push({ name, variables: body.variables ?? {}, request: r });
  });
  return seen;
}

/** openConsole on the map, recording operations from the first request on. */
async function openMap(rig: ConsoleRig, role: RoleName, size: Size = 'laptop'): Promise<{ page: Page; errors: string[]; ops: Posted[] }> {
  let ops: Posted[] = [];
  const { page, errors } = await openConsole(rig, role, size, '#/map', (p) => {
    ops = recordOperations(p);
  });
  return { page, errors, ops };
}

/** Waits until the map (or table) shows at least one cell with data, and deck.gl has drawn a frame. */
async function cellsDrawn(page: Page): Promise<number> {
  await page.waitForSelector('#map[data-cells]:not([data-cells="0"])', { timeout: 90_000 });
  return Number(await page.getAttribute('#map', 'data-cells'));
}

/** Waits until deck.gl has drawn the latest layers. */
async function mapRendered(page: Page): Promise<void> {
  await page.waitForSelector('#map[data-rendered="1"]', { state: 'attached', timeout: 60_000 });
}

/** A GraphQL answer from the rig's server with the admin key: the truth the page is checked against. */
async function adminGql<T>(rig: ConsoleRig, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(rig.app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${rig.keys.admin}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (!body.data) throw new Error(`GraphQL: ${body.errors?.map((e) => e.message).join('; ') ?? res.status}`);
  return body.data;
}

/** Opens the series of the table's first row and waits for its chart. */
async function openFirstSeries(page: Page): Promise<void> {
  await page.click('#show-table');
  await page.waitForSelector('#map-table tbody tr button');
  await page.locator('#map-table tbody tr button').first().click();
  await page.waitForSelector('#cell-detail .chart[data-points]', { timeout: 60_000 });
}

/** Picks an option and waits for the redraw it starts to finish. */
async function choose(page: Page, select: string, option: { label: string } | string): Promise<void> {
  await page.waitForSelector('#draw:not([disabled])', { timeout: 90_000 });
  await page.selectOption(select, option);
  await page.waitForSelector('#draw:not([disabled])', { timeout: 90_000 });
}

run('the map', () => {
  const rig = useConsole();

  for (const role of ['admin', 'partner'] as const) {
    it(`${role}: the first view with default controls shows cells with data, with an explicit H3 resolution`, async () => {
      const { page, errors, ops } = await openMap(rig, role);
      const cells = await cellsDrawn(page);
      expect(cells).toBeGreaterThan(0);
      const first = ops.find((o) => o.name === 'MapCells')!;
      const grid = (first.variables.input as { grid: { h3Resolution?: number } | null }).grid;
      expect(grid).not.toBeNull();
      // national extent: coarse hexagons
      expect(grid!.h3Resolution).toBeGreaterThanOrEqual(3);
      expect(grid!.h3Resolution).toBeLessThanOrEqual(5);
      await mapRendered(page);
      expect(await page.locator('#map-legend .classes li').count()).toBeGreaterThan(0);
      expect(await page.textContent('#bucket-label')).toMatch(/week of \d{4}-\d\d-\d\d/);
      // The base layer and the data are WebGL canvases (MapLibre's and deck.gl's).
      expect(await page.locator('#map canvas').count()).toBeGreaterThanOrEqual(2);
      if (role === 'partner') expect(await page.textContent('#privacy-note')).toMatch(/fewer than 10 distinct users.*k-anonymity/s);
      else expect(await page.locator('#privacy-note').count()).toBe(0);
      await shot(page, `map-${role}-laptop`);
      expect(errors).toEqual([]);
      await page.context().close();
    }, 180_000);
  }

  it('a city gets finer hexagons than the country', async () => {
    const { page, ops } = await openMap(rig, 'admin');
    await cellsDrawn(page);
    const national = (ops.filter((o) => o.name === 'MapCells').at(-1)!.variables.input as { grid: { h3Resolution: number } }).grid.h3Resolution;
    await choose(page, 'select[name=area]', { label: 'São Paulo' });
    await cellsDrawn(page);
    const last = ops.filter((o) => o.name === 'MapCells').at(-1)!.variables.input as { grid: { h3Resolution: number }; where: { regionIds: string[] } };
    expect(last.where.regionIds).toHaveLength(1);
    expect(last.grid.h3Resolution).toBeGreaterThan(national);
    expect(await page.textContent('#map-legend')).toContain(`H3 resolution ${last.grid.h3Resolution} (fitted to the area)`);
    await page.context().close();
  }, 180_000);

  it('clicking a region opens its series by region id, titled with the city name; hover shows value and bucket', async () => {
    const { page, errors, ops } = await openMap(rig, 'admin');
    await cellsDrawn(page);
    await choose(page, 'select[name=area]', { label: 'São Paulo' });
    await choose(page, 'select[name=grid]', 'regions');
    await cellsDrawn(page);
    await mapRendered(page);
    const box = (await page.locator('#map').boundingBox())!;
    // The view is fitted to São Paulo: its middle is the region. Hover until deck.gl picks it.
    for (let i = 0; i < 20 && (await page.isHidden('#map-tooltip')); i++) {
      await page.mouse.move(box.x + box.width / 2 + (i % 5), box.y + box.height / 2 - (i % 3));
      await page.waitForTimeout(250);
    }
    await page.waitForSelector('#map-tooltip:not([hidden])', { timeout: 30_000 });
    const tip = (await page.textContent('#map-tooltip'))!;
    expect(tip).toContain('São Paulo');
    expect(tip).toMatch(/week of \d{4}-\d\d-\d\d/);
    expect(tip).toMatch(/events: [\d,]+/);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForSelector('#cell-detail .chart[data-points]', { timeout: 60_000 });
    expect(await page.textContent('#cell-detail h3')).toBe('São Paulo');
    const series = ops.filter((o) => o.name === 'MapSeries');
    expect(series).toHaveLength(1);
    const where = (series[0]!.variables.input as { where: Record<string, unknown> }).where;
    expect(Object.keys(where)).toEqual(['regionIds']);
    expect(where.regionIds).toEqual([(await page.inputValue('select[name=area]'))]);
    await shot(page, 'map-region-series');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('a redraw that returns nothing clears the legend, slider and cells', async () => {
    const { page, errors } = await openConsole(rig, 'admin', 'laptop', '#/map');
    await cellsDrawn(page);
    expect(await page.locator('#map-legend .classes li').count()).toBeGreaterThan(0);
    await page.fill('input[name=from]', '2020-01-01');
    await page.fill('input[name=to]', '2020-03-01');
    await page.click('#draw');
    await page.waitForSelector('#map-status .message.empty', { timeout: 60_000 });
    expect(await page.locator('#map-legend > *').count()).toBe(0);
    expect(await page.getAttribute('#map', 'data-cells')).toBe('0');
    expect(await page.isDisabled('#time-slider')).toBe(true);
    expect(await page.textContent('#bucket-label')).toBe('');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('Draw is disabled while loading, and a newer request cancels the one in flight', async () => {
    const { page, errors } = await openConsole(rig, 'admin', 'laptop', '#/map');
    await cellsDrawn(page);
    const ops = recordOperations(page);
    const failed: Request[] = [];
    page.on('requestfailed', (r) => failed.push(r));
    // Hold the map's answers for a while, so the in-flight state can be seen.
    await page.route('**/graphql', async (route) => {
      if ((route.request().postData() ?? '').includes('query MapCells')) await new Promise((r) => setTimeout(r, 2_500));
      await route.continue().catch(() => undefined);
    });
    await page.click('#draw');
    await page.waitForSelector('#draw[disabled]');
    expect(await page.textContent('#draw')).toBe('Drawing…');
    // A second request (choosing an area redraws) replaces the first.
    await page.selectOption('select[name=area]', { label: 'Rio de Janeiro' });
    await page.waitForSelector('#draw:not([disabled])', { timeout: 90_000 });
    const cells = ops.filter((o) => o.name === 'MapCells');
    expect(cells).toHaveLength(2);
    expect(failed.map((r) => r.url())).toContain(cells[0]!.request.url());
    expect(failed.some((r) => r === cells[0]!.request)).toBe(true);
    expect(failed.some((r) => r === cells[1]!.request)).toBe(false);
    await cellsDrawn(page);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('hot spots: a toggle, a legend with symbols, outlines on the map and marks in the table', async () => {
    const { page, errors, ops } = await openMap(rig, 'admin');
    await cellsDrawn(page);
    await page.waitForSelector('#map-legend[data-hotspots]', { timeout: 90_000 });
    const spots = Number(await page.getAttribute('#map-legend', 'data-hotspots'));
    // The default view (national, weekly events) has significant hot spots: the API says how many.
    const asked = ops.filter((o) => o.name === 'MapHotspots').at(-1)!;
    const truth = await adminGql<{ hotspots: { classification: string }[] }>(rig, 'query MapHotspots($input: HotspotInput!) { hotspots(input: $input) { classification } }', asked.variables);
    const significant = truth.hotspots.filter((s) => s.classification !== 'NOT_SIGNIFICANT').length;
    expect(significant).toBeGreaterThan(0);
    expect(spots).toBe(significant);
    expect(Number(await page.getAttribute('#map', 'data-hotspots'))).toBeGreaterThan(0);
    expect(await page.textContent('#map-summary')).toMatch(/[1-9]\d* hot or cold spots/);
    expect(await page.isChecked('#hotspot-toggle')).toBe(true);
    expect(await page.textContent('#hotspot-legend')).toMatch(/▲ ?hot spot.*▼ ?cold spot/s);
    expect(await page.getAttribute('#map', 'data-hotspots')).not.toBeNull();
    await page.click('#show-table');
    await page.waitForSelector('#map-table tbody tr');
    const marked = await page.locator('#map-table tbody td', { hasText: /^[▲▼] (hot|cold)$/ }).count();
    expect(marked).toBeGreaterThan(0);
    expect(marked).toBeLessThanOrEqual(spots);
    await page.click('#show-map');
    await page.uncheck('#hotspot-toggle');
    expect(await page.locator('#hotspot-legend').count()).toBe(0);
    expect(await page.getAttribute('#map', 'data-hotspots')).toBe('0');
    await page.check('#hotspot-toggle');
    await page.waitForSelector('#hotspot-legend');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('the table view lists the same cells and opens a series from the keyboard', async () => {
    const { page, errors } = await openConsole(rig, 'admin', 'laptop', '#/map');
    const cells = await cellsDrawn(page);
    await page.click('#show-table');
    await page.waitForSelector('#map-table tbody tr');
    expect(await page.locator('#map-table tbody tr').count()).toBe(Math.min(cells, 300));
    expect(await page.isHidden('#map')).toBe(true);
    await page.locator('#map-table tbody tr button').first().focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#cell-detail .chart[data-points], #cell-detail .message', { timeout: 60_000 });
    expect(await page.textContent('#cell-detail h3')).toMatch(/São Paulo|Rio de Janeiro|Belo Horizonte|Brasília|Curitiba|Recife|H3 /);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('without WebGL the table is shown instead of the map', async () => {
    const context = await rig.browser.newContext({ viewport: SIZES.laptop });
    await context.addInitScript(`{
      const get = HTMLCanvasElement.prototype.getContext;
      HTMLCanvasElement.prototype.getContext = function (kind, ...rest) { return /webgl/.test(kind) ? null : get.call(this, kind, ...rest); };
    }`);
    const page = await context.newPage();
    await page.goto(`${rig.base}#/map`);
    await page.fill('#key-input', rig.keys.admin);
    await page.click('#key-form button');
    await page.waitForSelector('#map-table tbody tr', { timeout: 90_000 });
    expect(await page.isDisabled('#show-map')).toBe(true);
    await context.close();
  }, 180_000);

  it('partner: suppressed cells and buckets say why', async () => {
    const { page, errors, ops } = await openMap(rig, 'partner');
    await cellsDrawn(page);
    expect(await page.textContent('#privacy-note')).toMatch(/fewer than 10 distinct users.*differential-privacy noise/s);
    expect(await page.textContent('#map-legend')).toMatch(/suppressed: fewer than 10 distinct users/);
    // Resolution 8 hexagons (~0.7 km²) in the smallest city, per day: each rests on fewer than 10 users.
    await choose(page, 'select[name=area]', { label: 'Recife' });
    await page.selectOption('select[name=bucket]', 'DAY');
    await choose(page, 'select[name=grid]', '8');
    const asked = ops.filter((o) => o.name === 'MapCells').at(-1)!;
    expect((asked.variables.input as { grid: { h3Resolution: number } }).grid.h3Resolution).toBe(8);
    // The admin key sees these cells, and every one has fewer than 10 distinct users: all suppressed.
    const truth = await adminGql<{ aggregates: { value: number | null; users: number | null }[] }>(rig, 'query MapCells($input: AggregateInput!) { aggregates(input: $input) { value users } }', asked.variables);
    const withData = truth.aggregates.filter((c) => c.value !== null);
    expect(withData.length).toBeGreaterThan(0);
    expect(Math.max(...withData.map((c) => c.users ?? 0))).toBeLessThan(10);
    expect(await page.textContent('#map-status .message.empty')).toMatch(/No cell here has at least 10 distinct users, so every one is suppressed for partner keys \(k-anonymity\)/);
    expect(await page.getAttribute('#map', 'data-cells')).toBe('0');
    await shot(page, 'map-partner-suppressed');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('the series panel of a weekly conversion map is in percent, with weekly buckets', async () => {
    const { page, errors } = await openMap(rig, 'admin');
    await cellsDrawn(page);
    await page.selectOption('select[name=metric]', 'CONVERSION');
    expect(await page.inputValue('select[name=bucket]')).toBe('WEEK');
    await choose(page, 'select[name=grid]', 'regions');
    await cellsDrawn(page);
    await openFirstSeries(page);
    const chart = page.locator('#cell-detail .chart');
    expect(await chart.locator('.chart-title').textContent()).toBe('Conversion per week');
    expect(await chart.getAttribute('aria-label')).toMatch(/from week of \d{4}-\d\d-\d\d to week of \d{4}-\d\d-\d\d.*lowest [<>]?[\d.]+%, highest [<>]?[\d.]+% purchases ÷ views/s);
    const legend = (await chart.locator('.u-legend').textContent())!;
    expect(legend).toContain('Week (UTC)');
    expect(legend).not.toContain('Day (UTC)');
    expect(legend).toContain('Conversion (purchases ÷ views)');
    expect(legend).not.toMatch(/\bcount\b/);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('a redraw resets the series panel and cancels the series request in flight', async () => {
    const { page, errors, ops } = await openMap(rig, 'admin');
    await cellsDrawn(page);
    await openFirstSeries(page);
    expect(await page.locator('#cell-detail .chart').count()).toBe(1);
    // A redraw forgets the series shown.
    await page.click('#draw');
    await page.waitForSelector('#draw:not([disabled])', { timeout: 90_000 });
    await page.waitForSelector('#map-table tbody tr button');
    expect(await page.locator('#cell-detail .chart').count()).toBe(0);
    expect(await page.textContent('#cell-detail')).toMatch(/Click a cell or region/);
    // A series still loading when the redraw starts is cancelled, and never shown.
    const failed: Request[] = [];
    page.on('requestfailed', (r) => failed.push(r));
    await page.route('**/graphql', async (route) => {
      if ((route.request().postData() ?? '').includes('query MapSeries')) await new Promise((r) => setTimeout(r, 2_500));
      await route.continue().catch(() => undefined);
    });
    await page.waitForSelector('#map-table tbody tr button');
    await page.locator('#map-table tbody tr button').first().click();
    await page.waitForSelector('#cell-detail .message.info');
    await page.click('#draw');
    await page.waitForSelector('#draw:not([disabled])', { timeout: 90_000 });
    await page.waitForTimeout(3_500); // past the held answer
    const series = ops.filter((o) => o.name === 'MapSeries');
    expect(series).toHaveLength(2);
    expect(failed.some((r) => r === series[1]!.request)).toBe(true);
    expect(await page.locator('#cell-detail .chart').count()).toBe(0);
    expect(await page.textContent('#cell-detail')).toMatch(/Click a cell or region/);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 180_000);

  for (const role of ['admin', 'partner'] as RoleName[]) {
    for (const size of Object.keys(SIZES) as Size[]) {
      it(`${role} on a ${size}: map fits the width, no sideways scroll, labelled slider, no serious axe violation`, async () => {
        const { page, errors } = await openConsole(rig, role, size, '#/map');
        await cellsDrawn(page);
        await mapRendered(page);
        const frame = (await page.locator('#map').boundingBox())!;
        expect(frame.x).toBeGreaterThanOrEqual(0);
        expect(frame.x + frame.width).toBeLessThanOrEqual(SIZES[size].width);
        expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
        expect(await page.evaluate<string>(`document.getElementById('time-slider').labels[0]?.textContent ?? ''`)).toMatch(/Time bucket/);
        await shot(page, `map-${role}-${size}`);
        expect(await seriousViolations(page)).toEqual([]);
        expect(errors).toEqual([]);
        await page.context().close();
      }, 180_000);
    }
  }
});
