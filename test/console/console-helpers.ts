/**
 * The console in a real browser for tests: Debian's Chromium driven by playwright-core, WebGL
 * through SwiftShader (the map), a server with the seeded demo data, one key per role, both screen
 * sizes of issue 19, and axe-core. Screenshots go to test/.tmp/screenshots (CI artifacts, not
 * committed). Each test file calls useConsole() once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { App } from '../../src/app';
import type { Database } from '../../src/db/database';
import { startTestApp, TEST_ADMIN_KEY } from '../helpers/app';
import { openTestDatabase } from '../helpers/db';
import { createKey } from '../helpers/keys';

export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS = path.resolve(__dirname, '../.tmp/screenshots');
const CONSOLE_DIR = path.resolve(__dirname, '../../dist/console');

/** The built console and a browser: without them the console suites do not run (CI has both). */
export const consoleAvailable = fs.existsSync(CHROMIUM) && fs.existsSync(path.join(CONSOLE_DIR, 'app.js'));

export const SIZES = {
  laptop: { width: 1440, height: 900 },
  phone: { width: 390, height: 844 },
  /** The narrowest the console supports (issue 19: "responsive from 360 px"). */
  narrow: { width: 360, height: 740 },
} as const;
export type Size = keyof typeof SIZES;
export type RoleName = 'admin' | 'partner' | 'frontend';

export interface ConsoleRig {
  readonly db: Database;
  readonly app: App;
  readonly browser: Browser;
  /** http://127.0.0.1:<port>/console/ */
  readonly base: string;
  readonly keys: Readonly<Record<RoleName, string>>;
  /** The user the frontend key is bound to (the most active one). */
  readonly frontendUserId: string;
}

/** Starts the server and the browser for the file (beforeAll) and stops them (afterAll). */
export function useConsole(env: Record<string, string> = {}): ConsoleRig {
  const rig = {} as { -readonly [K in keyof ConsoleRig]: ConsoleRig[K] };
  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    rig.db = await openTestDatabase();
    rig.app = await startTestApp(rig.db, { MERIDIAN_CONSOLE_DIR: CONSOLE_DIR, MERIDIAN_JOB_POLL_MS: '200', ...env });
    rig.base = rig.app.url.replace('/graphql', '/console/');
    const [top] = await rig.db.dataSource.query<{ user_id: string }[]>(`SELECT user_id::text AS user_id FROM events GROUP BY user_id ORDER BY count(*) DESC LIMIT 1`);
    rig.frontendUserId = top!.user_id;
    rig.keys = { admin: TEST_ADMIN_KEY, partner: await createKey(rig.app, 'PARTNER'), frontend: await createKey(rig.app, 'FRONTEND', rig.frontendUserId) };
    rig.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        // WebGL (MapLibre, deck.gl) on the CPU: ANGLE over SwiftShader.
        '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
      ],
    });
  }, 180_000);
  afterAll(async () => {
    await rig.browser?.close();
    await rig.app?.stop();
    await rig.db?.close();
  });
  return rig;
}

export interface OpenedPage {
  readonly page: Page;
  /** Uncaught exceptions and console errors seen so far. */
  readonly errors: string[];
}

/**
 * A fresh browser context at `size`, the console opened at `hash` (e.g. '#/map') with `role`'s key
 * entered. `beforeLoad` runs on the page before it navigates (to watch its first requests).
 */
export async function openConsole(rig: ConsoleRig, role: RoleName | null, size: Size = 'laptop', hash = '', beforeLoad?: (page: Page) => void): Promise<OpenedPage> {
  const context = await rig.browser.newContext({ viewport: SIZES[size], deviceScaleFactor: 1, isMobile: size !== 'laptop', hasTouch: size !== 'laptop' });
  const page = await context.newPage();
  beforeLoad?.(page);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(`${rig.base}${hash}`);
  if (role) {
    await page.fill('#key-input', rig.keys[role]);
    await page.click('#key-form button');
    await page.waitForSelector(`#viewer:has-text("${role}")`);
  }
  return { page, errors };
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

/** axe-core's critical and serious violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated, not a <script> tag: the console's Content-Security-Policy forbids inline scripts.
  await page.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  // A string: the test build has no DOM types; this runs in the page.
  const found = await page.evaluate<AxeViolation[]>(`(async () => {
    const r = await window.axe.run(document);
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  })()`);
  return found.filter((v) => v.impact === 'critical' || v.impact === 'serious');
}

/** Saves a screenshot under test/.tmp/screenshots. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** The page's scroll width beyond its viewport (a phone layout must not scroll sideways). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
}
