/**
 * The console's shell for every role (issue 19): only the tabs a key may use, a landing page with
 * real data, a revoked key forgotten, a phone layout with Connect on screen and no sideways
 * scrolling, and no critical or serious axe-core violation on the first view.
 */
import { consoleAvailable, horizontalOverflow, openConsole, type RoleName, seriousViolations, shot, SIZES, type Size, useConsole } from './console-helpers';
import { gql } from '../helpers/app';

const run = consoleAvailable ? describe : describe.skip;

run('the console shell', () => {
  const rig = useConsole();

  const tabs: Record<RoleName, string[]> = {
    admin: ['map', 'trends', 'user', 'assistant', 'handoffs', 'models', 'keys', 'explorer'],
    partner: ['map', 'trends'],
    frontend: ['user', 'assistant', 'explorer'],
  };

  for (const role of ['admin', 'partner', 'frontend'] as const) {
    for (const size of Object.keys(SIZES) as Size[]) {
      it(`${role} on a ${size}: only its tabs, lands on the first, no sideways scroll, no serious axe violation`, async () => {
        const { page, errors } = await openConsole(rig, role, size);
        await page.waitForURL(new RegExp(`#/${tabs[role][0]}`));
        expect(await page.locator('#nav a').evaluateAll((as) => as.map((a) => a.getAttribute('data-page')))).toEqual(tabs[role]);
        expect(await page.isVisible('#key-form button')).toBe(true);
        const box = (await page.locator('#key-form button').boundingBox())!;
        expect(box.x + box.width).toBeLessThanOrEqual(SIZES[size].width);
        expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
        await shot(page, `shell-${role}-${size}`);
        expect(await seriousViolations(page)).toEqual([]);
        expect(errors).toEqual([]);
        await page.context().close();
      }, 120_000);
    }
  }

  it('a frontend key lands on its own user, with data', async () => {
    const { page } = await openConsole(rig, 'frontend');
    await page.waitForURL(/#\/user/);
    expect(await page.inputValue('input[name=userId]')).toBe(rig.frontendUserId);
    await page.waitForSelector('#prediction', { timeout: 60_000 });
    await page.context().close();
  }, 120_000);

  it('a page a key may not use says so instead of an error', async () => {
    const { page } = await openConsole(rig, 'frontend');
    await page.goto(`${rig.base}#/map`);
    await page.waitForSelector('.message.error');
    expect(await page.textContent('.message.error')).toMatch(/not available to a frontend key/);
    await page.context().close();
  }, 60_000);

  it('forgets a key revoked while in use: header, tooltip, tabs and the stored key cleared at its next request', async () => {
    const r = await gql(rig.app, `mutation { createApiKey(input: { name: "soon revoked", role: PARTNER }) { secret record { id } } }`);
    const { secret, record } = r.body.data!.createApiKey as { secret: string; record: { id: string } };
    const { page } = await openConsole(rig, null);
    await page.fill('#key-input', secret);
    await page.click('#key-form button');
    await page.waitForSelector('#viewer:has-text("partner")');
    expect(await page.getAttribute('#viewer', 'title')).toMatch(/partner/);
    await gql(rig.app, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: record.id });
    await new Promise((res) => setTimeout(res, 4_500)); // the key cache's lifetime
    // No reload: the next request made with the key gets UNAUTHENTICATED (opening Trends makes one,
    // if the open page has not made one already).
    await page.evaluate(`location.hash = '#/trends'`);
    await page.waitForSelector('.message.error:has-text("no longer accepted")');
    expect(await page.textContent('#viewer')).toBe('');
    expect(await page.getAttribute('#viewer', 'title')).toBeNull();
    expect(await page.locator('#nav a').count()).toBe(0);
    expect(await page.evaluate<string | null>(`sessionStorage.getItem('meridian.apiKey') || null`)).toBeNull();
    await page.context().close();
  }, 60_000);
});
