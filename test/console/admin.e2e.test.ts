/**
 * The admin views in a real browser (issue 19): models and jobs (versions compared on their main
 * metric, job details, the live bar in step with the table, stage text, outcome colours, confirmed
 * actions whose outcome shows beside their button), API keys (created with the secret shown once,
 * revoked), and the GraphQL explorer (GraphiQL with the entered key and the checked-in schema).
 *
 * Jobs in a given state are written straight into the job table (status training, no lease, so no
 * worker touches them; queued ones not due for a day): the live view polls the row, so the page
 * sees every change as it would from a worker. One real fine-tune runs end to end.
 */
import type { Page, Route } from 'playwright-core';
import { gql } from '../helpers/app';
import { consoleAvailable, horizontalOverflow, openConsole, seriousViolations, shot, SIZES, type Size, useConsole } from './console-helpers';

const run = consoleAvailable ? describe : describe.skip;

run('admin views', () => {
  const rig = useConsole();

  /** A job row in `status`, not claimable by the worker. */
  async function fakeJob(status: string, progress: number, extra: Record<string, unknown> = {}): Promise<string> {
    const terminal = ['succeeded', 'failed', 'cancelled'].includes(status);
    const [row] = await rig.db.dataSource.query<{ id: string }[]>(
      `INSERT INTO training_jobs (kind, status, data_to, max_attempts, attempts, progress, started_at, finished_at, run_after, hyperparameters, log_tail, error)
       VALUES ('next-item', $1, now(), 3, $2, $3, now() - interval '2 minutes', CASE WHEN $4 THEN now() END, now() + interval '1 day',
               '{"epochs": 3, "lr": 0.001}', 'loading snapshot\nepoch 1 step 10 loss 0.512', $5)
       RETURNING id::text AS id`,
      [status, status === 'queued' ? 0 : 1, progress, terminal, status === 'failed' ? 'trainer exited with code 1' : null],
    );
    if (Object.keys(extra).length) await setJob(row!.id, extra);
    return row!.id;
  }

  async function setJob(id: string, fields: Record<string, unknown>): Promise<void> {
    const keys = Object.keys(fields);
    await rig.db.dataSource.query(
      `UPDATE training_jobs SET ${keys.map((k, i) => `${k} = $${i + 2}`).join(', ')}, updated_at = now() WHERE id = $1`,
      [id, ...keys.map((k) => fields[k])],
    );
  }

  async function jobStatus(id: string): Promise<string> {
    const [r] = await rig.db.dataSource.query<{ status: string }[]>(`SELECT status FROM training_jobs WHERE id = $1`, [id]);
    return r!.status;
  }

  /**
   * Answers the console's StartFineTuning with job `id` (a fake row no worker runs) instead of the
   * server: the page goes on as after a real start. `hold` may keep other operations unanswered.
   */
  function fakeStart(page: Page, id: () => string, hold: (body: string) => boolean = () => false, held: Route[] = []): void {
    void page.route('**/graphql', async (route) => {
      const body = route.request().postData() ?? '';
      if (body.includes('mutation StartFineTuning')) {
        await route.fulfill({ contentType: 'application/json', body: JSON.stringify({ data: { startFineTuning: { id: id(), modelKind: 'NEXT_ITEM', status: 'QUEUED' } } }) });
      } else if (hold(body)) {
        held.push(route);
      } else {
        await route.continue();
      }
    });
  }

  /** The models page following job `id` live. */
  async function followJob(id: string, status: string): Promise<Page> {
    const { page } = await openConsole(rig, 'admin', 'laptop', `#/models?job=${id}`);
    await page.waitForSelector(`#live[data-job-id="${id}"][data-status="${status}"]`);
    return page;
  }

  it('shows a clear message for a wrong key, not a blank page', async () => {
    const { page } = await openConsole(rig, null);
    await page.fill('#key-input', 'mk_000000000000_wrongwrongwrongwrongwrongwrongwrongwrongwro');
    await page.click('#key-form button');
    await page.waitForSelector('.message.error');
    expect(await page.textContent('.message.error')).toMatch(/not valid/);
    await page.context().close();
  });

  describe('models and jobs', () => {
    it('keeps the jobs table row in step with the live bar (not "exporting 0%" beside "training 42%")', async () => {
      const id = await fakeJob('exporting', 0.01);
      const page = await followJob(id, 'EXPORTING');
      const row = page.locator(`#jobs tr[data-job-id="${id}"]`);
      expect(await row.locator('td.stage').textContent()).toBe('exporting');
      await setJob(id, { status: 'training', progress: 0.42, epoch: 1, step: 10, total_steps: 24, loss: 0.512, eta_seconds: 30 });
      await page.waitForSelector('#live[data-status="TRAINING"]');
      expect(await page.textContent('#live-text')).toContain('training 42%');
      expect(await row.locator('td.stage').textContent()).toBe('training');
      expect(await row.locator('td.pct').textContent()).toBe('42%');
      await page.context().close();
    }, 60_000);

    it('says what happens at each stage, also while the trainer evaluates and exports at 86–88%', async () => {
      const id = await fakeJob('training', 0.5, { epoch: 2, step: 12, total_steps: 24, loss: 0.4 });
      const page = await followJob(id, 'TRAINING');
      expect(await page.textContent('#live-detail')).toMatch(/Training: epoch 2, step 12 of 24, loss 0.4/);
      await setJob(id, { progress: 0.86 });
      await page.waitForSelector('#live-detail:has-text("scoring the new model on the held-out test data")');
      await setJob(id, { progress: 0.88 });
      await page.waitForSelector('#live-detail:has-text("exporting the new model to ONNX")');
      await setJob(id, { status: 'evaluating', progress: 0.9 });
      await page.waitForSelector('#live-detail:has-text("scoring the serving version")');
      await setJob(id, { status: 'registering', progress: 0.95 });
      await page.waitForSelector('#live-detail:has-text("Registering")');
      // Details: hyperparameters, times and the log tail.
      expect(await page.textContent('#live .job-hyper')).toContain('"lr": 0.001');
      expect(await page.textContent('#live .job-facts')).toMatch(/Started\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
      expect(await page.textContent('#live-log')).toContain('epoch 1 step 10 loss 0.512');
      await page.context().close();
    }, 60_000);

    it('colours the bar by outcome: succeeded, failed and cancelled differ from running', async () => {
      const running = await fakeJob('training', 0.3);
      const page = await followJob(running, 'TRAINING');
      // Strings: the test build has no DOM types; these run in the page.
      const colour = () => page.evaluate<string>(`getComputedStyle(document.querySelector('#live-progress > div')).backgroundColor`);
      const colours: Record<string, string> = { TRAINING: await colour() };
      for (const status of ['succeeded', 'failed', 'cancelled']) {
        const id = await fakeJob(status, status === 'succeeded' ? 1 : 0);
        await page.reload();
        await page.waitForSelector(`#jobs tr[data-job-id="${id}"]`);
        await page.click(`#jobs tr[data-job-id="${id}"] a`);
        await page.waitForSelector(`#live[data-job-id="${id}"][data-status="${status.toUpperCase()}"]`);
        colours[status.toUpperCase()] = await colour();
        expect(await page.evaluate<string>(`document.querySelector('#live-progress > div').style.width`)).toBe('100%');
      }
      expect(new Set(Object.values(colours)).size).toBe(4);
      expect(colours.CANCELLED).not.toBe('rgb(37, 99, 235)'); // not the running blue
      await page.context().close();
    }, 60_000);

    it('cancel asks first and shows its outcome beside its button', async () => {
      const id = await fakeJob('queued', 0);
      const { page } = await openConsole(rig, 'admin', 'laptop', '#/models');
      const row = page.locator(`#jobs tr[data-job-id="${id}"]`);
      await row.locator('button', { hasText: 'Cancel' }).waitFor();
      page.once('dialog', (d) => void d.dismiss());
      await row.locator('button', { hasText: 'Cancel' }).click();
      await row.locator('.outcome', { hasText: 'Not done' }).waitFor();
      expect(await jobStatus(id)).toBe('queued');
      page.once('dialog', (d) => {
        expect(d.message()).toContain(`Cancel job #${id}`);
        void d.accept();
      });
      await row.locator('button', { hasText: 'Cancel' }).click();
      await page.locator(`#jobs tr[data-job-id="${id}"] .outcome`, { hasText: `Job #${id} cancelled` }).waitFor();
      expect(await jobStatus(id)).toBe('cancelled');
      await page.locator(`#jobs tr[data-job-id="${id}"] td.stage.status-cancelled`).waitFor(); // the table reloaded
      await page.locator(`#jobs tr[data-job-id="${id}"] .outcome`, { hasText: `Job #${id} cancelled` }).waitFor(); // the outcome stays
      expect(await page.textContent('#start-message')).toBe('');
      await page.context().close();
    }, 60_000);

    it('roll back asks first and shows its error beside its button', async () => {
      const { page } = await openConsole(rig, 'admin', 'laptop', '#/models');
      const head = page.locator('#versions section[data-kind="BEHAVIOR"] .kind-head');
      await head.locator('button', { hasText: 'Roll back' }).waitFor();
      page.once('dialog', (d) => void d.dismiss());
      await head.locator('button', { hasText: 'Roll back' }).click();
      await head.locator('.outcome', { hasText: 'Not done' }).waitFor();
      page.once('dialog', (d) => void d.accept());
      await head.locator('button', { hasText: 'Roll back' }).click();
      await head.locator('.outcome.error[role="alert"]', { hasText: 'no previous version' }).waitFor();
      await page.context().close();
    }, 60_000);

    it('leaving right after Start: no job= in the next page\'s URL, no live subscription, its requests cancelled', async () => {
      const id = await fakeJob('queued', 0);
      let holdJobs = false;
      const held: Route[] = [];
      const failed: string[] = [];
      const frames: string[] = [];
      const { page, errors } = await openConsole(rig, 'admin', 'laptop', '#/models', (p) => {
        // The versions never answer; the job list answers until Start is clicked.
        fakeStart(p, () => id, (body) => body.includes('query ModelVersions') || (holdJobs && body.includes('query TrainingJobs')), held);
        p.on('requestfailed', (r) => failed.push(r.postData() ?? ''));
        p.on('websocket', (ws) => ws.on('framesent', (f) => frames.push(String(f.payload))));
      });
      await page.waitForSelector(`#jobs tr[data-job-id="${id}"]`);
      holdJobs = true;
      await page.click('#start-job button[type=submit]');
      await page.locator('#start-message', { hasText: `Job #${id} (NEXT_ITEM) queued` }).waitFor();
      for (const until = Date.now() + 10_000; Date.now() < until && held.length < 5; ) await page.waitForTimeout(50);
      expect(held.map((r) => /query (\w+)/.exec(r.request().postData() ?? '')?.[1]).sort()).toEqual([...Array(4).fill('ModelVersions'), 'TrainingJobs']);
      await page.evaluate(`location.hash = '#/keys'`);
      await page.waitForSelector('#keys table');
      // The page's cleanup aborted the job list (which Start awaits) and the versions.
      for (const until = Date.now() + 5_000; Date.now() < until && failed.length < 5; ) await page.waitForTimeout(50);
      expect(failed.filter((b) => b.includes('query TrainingJobs')).length).toBe(1);
      expect(failed.filter((b) => b.includes('query ModelVersions')).length).toBe(4);
      for (const r of held) await r.continue().catch(() => undefined);
      await page.waitForTimeout(1_500);
      expect(page.url()).not.toContain('job=');
      expect(frames.filter((f) => f.includes('TrainingJobProgress'))).toEqual([]);
      expect(errors).toEqual([]);
      await page.context().close();
    }, 60_000);

    it('the form\'s message is about the job it names: live while that job is followed, no stale stage while another is', async () => {
      const mine = await fakeJob('queued', 0);
      const other = await fakeJob('training', 0.3, { epoch: 1, step: 7, total_steps: 24, loss: 0.6 });
      const { page, errors } = await openConsole(rig, 'admin', 'laptop', '#/models', (p) => fakeStart(p, () => mine));
      const msg = page.locator('#start-message');
      await page.waitForSelector(`#jobs tr[data-job-id="${other}"]`);
      await page.click('#start-job button[type=submit]');
      await page.waitForSelector(`#live[data-job-id="${mine}"][data-status="QUEUED"]`);
      await page.locator('#start-message', { hasText: `Job #${mine} (NEXT_ITEM): Queued: waiting` }).waitFor();
      await setJob(mine, { status: 'training', progress: 0.42, epoch: 1, step: 10, total_steps: 24, loss: 0.5 });
      await page.locator('#start-message', { hasText: `Job #${mine} (NEXT_ITEM): Training: epoch 1, step 10 of 24` }).waitFor();
      // Another job followed: the message no longer shows a stage of the started one (it would stop updating).
      await page.click(`#jobs tr[data-job-id="${other}"] a`);
      await page.waitForSelector(`#live[data-job-id="${other}"][data-status="TRAINING"]`);
      await page.locator('#start-message', { hasText: `Job #${mine} (NEXT_ITEM) was started here; job #${other} is shown below.` }).waitFor();
      await setJob(mine, { step: 15, progress: 0.6 });
      await setJob(other, { step: 12, progress: 0.5 });
      await page.waitForSelector('#live-detail:has-text("step 12 of 24")');
      expect(await msg.textContent()).not.toMatch(/Training|step|%/);
      // Back to the started job: the message is live again, with its current stage.
      await page.click('#follow-started');
      await page.waitForSelector(`#live[data-job-id="${mine}"][data-progress="0.6"]`);
      await page.locator('#start-message', { hasText: `Job #${mine} (NEXT_ITEM): Training: epoch 1, step 15 of 24` }).waitFor();
      expect(page.url()).toContain(`job=${mine}`);
      expect(errors).toEqual([]);
      await page.context().close();
    }, 60_000);

    it('follows a fine-tuning job live to done; the messages follow it too', async () => {
      const { page } = await openConsole(rig, 'admin', 'laptop', '#/models');
      await page.waitForSelector('#versions table');
      await page.selectOption('select[name=kind]', 'NEXT_ITEM');
      await page.fill('textarea[name=hyperparameters]', '{"epochs": 1}');
      await page.click('#start-job button[type=submit]');
      await page.waitForSelector('#live-progress');
      const id = (await page.getAttribute('#live', 'data-job-id'))!;
      const seen = new Set<string>();
      const deadline = Date.now() + 420_000;
      let status = '';
      while (Date.now() < deadline) {
        status = (await page.getAttribute('#live', 'data-status')) ?? '';
        if (status) seen.add(status);
        if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status)) break;
        await page.waitForTimeout(500);
      }
      await shot(page, 'models-job-done');
      expect(status).toBe('SUCCEEDED');
      expect(Number(await page.getAttribute('#live', 'data-progress'))).toBe(1);
      expect(seen.size).toBeGreaterThan(1); // it advanced through stages while we watched
      await page.waitForSelector(`#jobs tr[data-job-id="${id}"] td.status-succeeded`);
      // "Job #1 queued." does not stay: the form's message says where the job is now.
      const msg = await page.textContent('#start-message');
      expect(msg).toContain(`Job #${id}`);
      expect(msg).toMatch(/Succeeded/);
      expect(msg).not.toMatch(/queued/i);
      expect(await page.textContent('#live .job-comparison')).toMatch(/ndcg@10/);
      await page.context().close();
    }, 480_000);

    it('compares versions on the main metric, promotes and rolls back with confirmation (after the job above)', async () => {
      const { page } = await openConsole(rig, 'admin', 'laptop', '#/models');
      const kind = page.locator('#versions section[data-kind="NEXT_ITEM"]');
      await kind.locator('table.versions').waitFor();
      expect(await kind.locator('table.versions thead').textContent()).toContain('ndcg@10');
      const candidate = kind.locator('tbody tr', { has: page.locator('td.status-candidate') }).first();
      await candidate.waitFor();
      expect(await candidate.locator('td.delta').textContent()).toMatch(/[▲▼]|±0/);
      page.once('dialog', (d) => void d.dismiss());
      await candidate.locator('button', { hasText: 'Promote' }).click();
      await candidate.locator('.outcome', { hasText: 'Not done' }).waitFor();
      const versionId = (await candidate.getAttribute('data-version-id'))!;
      page.once('dialog', (d) => void d.accept());
      await candidate.locator('button', { hasText: 'Promote' }).click();
      const promoted = kind.locator(`tr[data-version-id="${versionId}"]`);
      await promoted.locator('td.status-active').waitFor(); // the table reloaded
      await promoted.locator('.outcome', { hasText: 'Promoted' }).waitFor(); // and the outcome is still beside where the button was
      page.once('dialog', (d) => void d.accept());
      await kind.locator('.kind-head button', { hasText: 'Roll back' }).click();
      await kind.locator('.kind-head .outcome', { hasText: 'Rolled back' }).waitFor();
      await kind.locator(`tr[data-version-id="${versionId}"] td.status-candidate, tr[data-version-id="${versionId}"] td.status-archived`).waitFor();
      await page.context().close();
    }, 60_000);
  });

  describe('API keys', () => {
    it('creates a key: the secret is shown once, copies, and works', async () => {
      const { page } = await openConsole(rig, 'admin', 'laptop', '#/keys');
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
      await page.waitForSelector('#keys table');
      await page.fill('#create-key input[name=name]', 'e2e partner');
      await page.selectOption('#create-key select[name=role]', 'PARTNER');
      expect(await page.isVisible('#create-key input[name=userId]')).toBe(false);
      await page.click('#create-key button[type=submit]');
      const secret = await page.inputValue('#new-secret');
      expect(secret).toMatch(/^mk_[0-9a-f]{12}_/);
      await page.click('#copy-secret');
      await page.waitForSelector('#created-key .outcome:has-text("Copied")');
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
      const prefix = secret.split('_')[1]!;
      await page.waitForSelector(`#keys tr[data-prefix="${prefix}"]`);
      // The console's own operation: a partner key may run only allow-listed documents.
      const r = await gql(rig.app, 'query Viewer { viewer { role name userId } }', {}, { authorization: `Bearer ${secret}` });
      expect(r.body.data?.viewer).toEqual({ role: 'PARTNER', name: 'e2e partner', userId: null });
      // Shown once: gone after a reload, and nowhere in the list.
      await page.reload();
      await page.waitForSelector(`#keys tr[data-prefix="${prefix}"]`);
      expect(await page.locator('#new-secret').count()).toBe(0);
      expect(await page.content()).not.toContain(secret);
      await page.context().close();
    }, 60_000);

    it('creates a frontend key for a user', async () => {
      const { page } = await openConsole(rig, 'admin', 'laptop', '#/keys');
      await page.waitForSelector('#keys table');
      await page.fill('#create-key input[name=name]', 'e2e frontend');
      await page.selectOption('#create-key select[name=role]', 'FRONTEND');
      await page.fill('#create-key input[name=userId]', rig.frontendUserId);
      await page.click('#create-key button[type=submit]');
      const secret = await page.inputValue('#new-secret');
      const r = await gql(rig.app, 'query { viewer { role userId } }', {}, { authorization: `Bearer ${secret}` });
      expect(r.body.data?.viewer).toEqual({ role: 'FRONTEND', userId: rig.frontendUserId });
      await page.context().close();
    }, 60_000);

    it('revokes a key after confirmation: it is refused afterwards', async () => {
      const created = await gql(rig.app, 'mutation { createApiKey(input: { name: "e2e to revoke", role: PARTNER }) { secret record { id prefix } } }');
      const { secret, record } = created.body.data!.createApiKey as { secret: string; record: { id: string; prefix: string } };
      const viewer = 'query Viewer { viewer { role name userId } }'; // the console's own operation: allow-listed for partners
      expect((await gql(rig.app, viewer, {}, { authorization: `Bearer ${secret}` })).body.data?.viewer).toMatchObject({ role: 'PARTNER' });
      const { page } = await openConsole(rig, 'admin', 'laptop', '#/keys');
      const row = page.locator(`#keys tr[data-prefix="${record.prefix}"]`);
      await row.locator('button', { hasText: 'Revoke' }).waitFor();
      page.once('dialog', (d) => void d.dismiss());
      await row.locator('button', { hasText: 'Revoke' }).click();
      await row.locator('.outcome', { hasText: 'Not done' }).waitFor();
      page.once('dialog', (d) => {
        expect(d.message()).toContain('e2e to revoke');
        void d.accept();
      });
      await row.locator('button', { hasText: 'Revoke' }).click();
      await page.locator(`#keys tr.revoked[data-prefix="${record.prefix}"]`).waitFor(); // the list reloaded
      await row.locator('.outcome', { hasText: 'Revoked' }).waitFor(); // and the outcome stays beside it
      // The server's key cache may answer for a few seconds.
      let code: string | undefined;
      for (const until = Date.now() + 15_000; Date.now() < until; await new Promise((res) => setTimeout(res, 500))) {
        const r = await gql(rig.app, viewer, {}, { authorization: `Bearer ${secret}` });
        code = r.body.errors?.[0]?.extensions?.code;
        if (code === 'UNAUTHENTICATED') break;
      }
      expect(code).toBe('UNAUTHENTICATED');
      await page.context().close();
    }, 60_000);
  });

  describe('GraphQL explorer, on a server with introspection off (NODE_ENV=production)', () => {
    const prod = useConsole({ NODE_ENV: 'production' });

    it('the server refuses introspection', async () => {
      const r = await gql(prod.app, 'query Schema { __schema { queryType { name } } }');
      expect(r.body.errors?.[0]?.message).toMatch(/introspection/i);
    });

    const cases = [['admin', 'laptop'], ['frontend', 'laptop'], ['frontend', 'phone']] as const;
    for (const [role, size] of cases) {
      it(`runs a query with the ${role} key on a ${size} and shows the result; docs from the checked-in schema`, async () => {
        const sent: string[] = []; // every GraphQL request from before the console loads
        const auth: string[] = [];
        const { page, errors } = await openConsole(prod, role, size, '#/explorer', (p) => {
          p.on('request', (req) => {
            if (!req.url().includes('/graphql')) return;
            sent.push(`${req.url()} ${req.postData() ?? ''}`);
            if (req.method() === 'POST') auth.push(req.headers().authorization ?? '');
          });
          p.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
        });
        await page.waitForSelector('.graphiql-container .graphiql-execute-button', { timeout: 60_000 });
        await page.locator('.graphiql-query-editor', { hasText: 'query Me' }).waitFor(); // the editor holds the first query
        auth.length = 0;
        await page.click('.graphiql-execute-button');
        try {
          await page.locator('.graphiql-response', { hasText: `"role": "${role.toUpperCase()}"` }).waitFor({ timeout: 30_000 });
        } finally {
          await shot(page, `explorer-${role}-${size}-ran`);
        }
        expect(auth).toEqual([`Bearer ${prod.keys[role]}`]);
        if (size !== 'laptop') {
          expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
          expect(await seriousViolations(page)).toEqual([]);
        }
        await page.click('button[aria-label="Show Documentation Explorer"]');
        await page.waitForSelector('.graphiql-doc-explorer');
        await page.click('.graphiql-doc-explorer a:has-text("Query")');
        await page.waitForSelector('.graphiql-doc-explorer a:has-text("dataExtent")');
        expect(sent.length).toBeGreaterThan(1);
        expect(sent.filter((b) => /__schema|__type\b/.test(b))).toEqual([]);
        await shot(page, `explorer-${role}-${size}`);
        expect(errors).toEqual([]);
        await page.context().close();
      }, 90_000);
    }
  });

  describe('every admin view at both sizes', () => {
    const views: Record<string, string> = { models: '#versions table', keys: '#keys table', explorer: '.graphiql-container .graphiql-execute-button' };
    for (const [view, ready] of Object.entries(views)) {
      for (const size of Object.keys(SIZES) as Size[]) {
        it(`${view} on a ${size}: no serious axe violation, no sideways scroll, no page error`, async () => {
          const { page, errors } = await openConsole(rig, 'admin', size, `#/${view}`);
          await page.waitForSelector(ready, { timeout: 60_000 });
          if (view === 'models' && (await page.locator('#jobs tr a').count()) > 0) {
            await page.click('#jobs tr a'); // job details too, where there is a job
            await page.waitForSelector('#live[data-status]');
          }
          await page.waitForTimeout(500);
          await shot(page, `admin-${view}-${size}`);
          expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
          expect(await seriousViolations(page)).toEqual([]);
          expect(errors).toEqual([]);
          await page.context().close();
        }, 120_000);
      }
    }
  });
});
