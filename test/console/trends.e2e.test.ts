/** The trends and user views in a real browser (issue 19). */
import path from 'node:path';
import { consoleAvailable, openConsole, SHOTS, useConsole } from './console-helpers';

const run = consoleAvailable ? describe : describe.skip;

run('trends and user', () => {
  const rig = useConsole();

  it('draws the trend chart with a series, a trend line and a forecast band', async () => {
    const { page } = await openConsole(rig, 'admin', 'laptop', '#/trends');
    await page.waitForSelector('input[name=from]');
    await page.click('form.controls button[type=submit]');
    await page.waitForSelector('#trend-result svg.chart path.series', { timeout: 60_000 });
    expect(Number(await page.getAttribute('#trend-result path.series', 'data-points'))).toBeGreaterThan(30);
    expect(await page.locator('#trend-result path.trend').count()).toBe(1);
    expect(await page.locator('#trend-result path.forecast-band').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'trends.png') });
    await page.context().close();
  }, 120_000);

  it('shows a user: prediction bars and recommendations with reasons', async () => {
    const { page } = await openConsole(rig, 'admin', 'laptop', '#/user');
    await page.fill('input[name=userId]', rig.frontendUserId);
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
    await page.context().close();
  }, 120_000);
});
