/** The map view in a real browser (issue 19). */
import path from 'node:path';
import { consoleAvailable, openConsole, SHOTS, useConsole } from './console-helpers';

const run = consoleAvailable ? describe : describe.skip;

run('the map', () => {
  const rig = useConsole();

  it('draws the map: cells coloured by value, a legend, and a time slider', async () => {
    const { page } = await openConsole(rig, 'admin', 'laptop', '#/map');
    await page.waitForSelector('#map-canvas');
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
    await page.context().close();
  }, 120_000);
});
