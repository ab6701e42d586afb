/** The admin views in a real browser (issue 19): models and jobs. */
import path from 'node:path';
import { consoleAvailable, openConsole, SHOTS, useConsole } from './console-helpers';

const run = consoleAvailable ? describe : describe.skip;

run('models and jobs', () => {
  const rig = useConsole();

  it('shows a clear message for a wrong key, not a blank page', async () => {
    const { page } = await openConsole(rig, null);
    await page.fill('#key-input', 'mk_000000000000_wrongwrongwrongwrongwrongwrongwrongwrongwro');
    await page.click('#key-form button');
    await page.waitForSelector('.message.error');
    expect(await page.textContent('.message.error')).toMatch(/not valid/);
    await page.context().close();
  });

  it('lists model versions and follows a fine-tuning job live to done', async () => {
    const { page } = await openConsole(rig, 'admin', 'laptop', '#/models');
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
    await page.context().close();
  }, 480_000);
});
