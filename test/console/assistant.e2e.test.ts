/**
 * The assistant in the console (issue 20): a customer (frontend key) asks where their order is,
 * sees the reply ask which one with both orders grounded beside it, answers "the first one" and
 * sees that order and a Track order action; a reload keeps the transcript; asking for a person
 * shows the handoff notice. An admin finds that conversation in the handoff queue, labels a turn,
 * marks it resolved and it leaves the queue. A retry after a lost answer stores the message once;
 * an admin chats as a user they pick; partners see neither tab; every view at the rig's sizes with
 * axe-core, no sideways scroll, and the grounding under the reply on narrow screens.
 *
 * Which reply the assistant gives depends on the intent model, so the assertions are about
 * structure (grounding kinds and ids, actions, the handoff flag), not reply wording.
 */
import type { Page } from 'playwright-core';
import { gql } from '../helpers/app';
import { createKey } from '../helpers/keys';
import { consoleAvailable, horizontalOverflow, openConsole, seriousViolations, shot, SIZES, type Size, useConsole } from './console-helpers';

const run = consoleAvailable ? describe : describe.skip;
const DAY = 86_400_000;
/** The customer's first question: an order intent without saying which order. */
const ASK_ORDER = 'I want to track my order';

interface Order { id: string; placedAt: number }

run('the assistant in the console', () => {
  // MERIDIAN_MODEL_ARTIFACTS may point the server at other model artifacts (development); by default the shipped ones.
  const rig = useConsole(process.env.MERIDIAN_MODEL_ARTIFACTS ? { MERIDIAN_MODEL_ARTIFACTS: process.env.MERIDIAN_MODEL_ARTIFACTS } : {});
  let userId = '';
  /** The user's two recent orders, newest first. */
  let orders: Order[] = [];
  let customerKey = '';
  /** The conversation of the first test (handed to a person). */
  let conversationId = '';

  beforeAll(async () => {
    // A user whose newest order has exactly one more order within 30 days before it (an order: the
    // purchase events of one session, as src/assistant/order.reader.ts reads them).
    const rows = await rig.db.dataSource.query<{ user_id: string; id: string; t: Date }[]>(
      `SELECT user_id::text, min(id)::text AS id, min(occurred_at) AS t FROM events WHERE type = 'purchase'
        GROUP BY user_id, coalesce(session_id, id::text) ORDER BY user_id, t DESC, min(id) DESC`,
    );
    const by = new Map<string, Order[]>();
    for (const r of rows) by.set(r.user_id, [...(by.get(r.user_id) ?? []), { id: r.id, placedAt: new Date(r.t).getTime() }]);
    const found = [...by].map(([u, os]) => [u, os.filter((o) => o.placedAt >= os[0]!.placedAt - 30 * DAY)] as const).find(([, os]) => os.length === 2);
    if (!found) throw new Error('the test data has no user with two recent orders');
    [userId, orders] = [found[0], [...found[1]]];
    customerKey = await createKey(rig.app, 'FRONTEND', userId);
  }, 60_000);

  /** The console at `size` and `hash` with `key` entered (a key of the rig or one made here). */
  async function openWith(key: string, role: string, size: Size = 'laptop', hash = '#/assistant') {
    const opened = await openConsole(rig, null, size, hash);
    await opened.page.fill('#key-input', key);
    await opened.page.click('#key-form button');
    await opened.page.waitForSelector(`#viewer:has-text("${role}")`);
    return opened;
  }

  async function say(page: Page, text: string, seq: number): Promise<void> {
    await page.fill('#chat-input', text);
    await page.press('#chat-input', 'Enter');
    await page.waitForSelector(`#transcript .turn[data-seq="${seq}"]`, { timeout: 30_000 });
  }

  const turn = (page: Page, seq: number) => page.locator(`#transcript .turn[data-seq="${seq}"]`);
  const grounded = (page: Page, seq: number, kind: string) => turn(page, seq).locator(`.grounding .ground[data-kind="${kind}"]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
  const actionKinds = (page: Page, seq: number) => turn(page, seq).locator('.action-chip').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));

  it('a customer asks where their order is, picks the first one, reloads, then asks for a person', async () => {
    const { page, errors } = await openWith(customerKey, 'frontend');
    await page.waitForSelector('#chat-input');
    expect(await page.getAttribute('#transcript', 'role')).toBe('log');
    expect(await page.getAttribute('#transcript', 'aria-live')).toBe('polite');
    expect(await page.textContent('label[for="chat-input"]')).toBe('Message');
    expect(await page.getAttribute('#chat-input', 'maxlength')).toBe('2000');
    expect(await page.textContent('#chat-count')).toBe('0 / 2000 characters');

    // The box is disabled while the reply is pending (the answer is held until that is checked).
    let release: () => void = () => undefined;
    const held = new Promise<void>((res) => (release = res));
    await page.route('**/graphql', async (route) => {
      if ((route.request().postData() ?? '').includes('mutation SendMessage')) await held;
      await route.continue();
    });
    await page.fill('#chat-input', ASK_ORDER);
    expect(await page.textContent('#chat-count')).toBe(`${ASK_ORDER.length} / 2000 characters`);
    await page.press('#chat-input', 'Enter');
    await page.waitForSelector('#chat-input:disabled');
    expect(await page.isDisabled('#chat-send')).toBe(true);
    expect(await page.textContent('#pending')).toContain(ASK_ORDER);
    release();
    await page.waitForSelector('#transcript .turn[data-seq="1"]', { timeout: 30_000 });
    await page.unroute('**/graphql');
    await page.waitForSelector('#chat-input:enabled');
    expect(await page.inputValue('#chat-input')).toBe('');
    expect(await page.evaluate('document.activeElement.id')).toBe('chat-input');

    // "Which one?": both recent orders grounded beside the reply, one CHOOSE_ORDER action each.
    expect((await grounded(page, 1, 'ORDER')).sort()).toEqual(orders.map((o) => o.id).sort());
    expect(await actionKinds(page, 1)).toEqual(['CHOOSE_ORDER', 'CHOOSE_ORDER']);
    expect(await turn(page, 1).getAttribute('data-handoff')).toBe('false');
    expect(await turn(page, 1).locator('.handoff-notice').count()).toBe(0);
    const order = turn(page, 1).locator(`.ground[data-kind="ORDER"][data-id="${orders[0]!.id}"]`);
    expect(await order.locator('dd[data-field="placedOn"]').textContent()).toBe(new Date(orders[0]!.placedAt).toISOString().slice(0, 10));
    expect(await order.locator('dd[data-field="items"]').textContent()).not.toBe('');
    expect(await turn(page, 1).locator('.turn-meta').textContent()).toMatch(/intent \w+ · \d+(\.\d+)?% confident/);
    conversationId = /conversation=(\d+)/.exec(page.url())?.[1] ?? '';
    expect(conversationId).not.toBe('');

    // "The first one": that order (the newest: the question lists newest first) and Track order.
    await say(page, 'the first one', 2);
    expect(await grounded(page, 2, 'ORDER')).toEqual([orders[0]!.id]);
    expect(await actionKinds(page, 2)).toContain('TRACK_ORDER');
    expect(await turn(page, 2).locator('.reply-text').textContent()).toContain(`#${orders[0]!.id}`); // the order summary template
    // An action only shows its payload: nothing is changed.
    await turn(page, 2).locator('.action-chip[data-kind="TRACK_ORDER"]').click();
    expect(await turn(page, 2).locator('.action-payload').textContent()).toContain(`"orderId":"${orders[0]!.id}"`);
    await shot(page, 'assistant-frontend-laptop-order');

    // A reload shows the same conversation.
    await page.reload();
    await page.waitForSelector('#transcript .turn[data-seq="2"]', { timeout: 30_000 });
    expect(await page.locator('#transcript .turn').count()).toBe(2);
    expect(await grounded(page, 2, 'ORDER')).toEqual([orders[0]!.id]);
    expect(await turn(page, 1).locator('.bubble.customer').textContent()).toContain(ASK_ORDER);

    // Asking for a person: the handoff notice with its reason, on the reply and above the transcript.
    await say(page, 'I need to speak with a real person', 3);
    expect(await turn(page, 3).getAttribute('data-handoff')).toBe('true');
    await turn(page, 3).locator('.handoff-notice').waitFor();
    const [row] = await rig.db.dataSource.query<{ status: string; handoff_reason: string }[]>(`SELECT status, handoff_reason FROM conversations WHERE id = $1`, [conversationId]);
    expect(row!.status).toBe('handoff');
    expect(await turn(page, 3).locator('.handoff-notice').getAttribute('data-reason')).toBe(row!.handoff_reason);
    expect(await page.textContent('#handoff-banner .handoff-notice')).toContain(row!.handoff_reason);
    expect(await page.textContent('#conversation-status')).toMatch(/waiting for a person/);
    await shot(page, 'assistant-frontend-laptop-handoff');
    expect(await seriousViolations(page)).toEqual([]);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('the admin finds it in the handoff queue, labels a turn, marks it resolved, and it leaves the queue', async () => {
    expect(conversationId).not.toBe('');
    const { page, errors } = await openConsole(rig, 'admin', 'laptop', '#/handoffs');
    const row = page.locator(`#handoff-queue tr[data-conversation-id="${conversationId}"]`);
    await row.waitFor({ timeout: 30_000 });
    // Oldest handoff first, as the server keeps the queue.
    const queue = await rig.db.dataSource.query<{ id: string }[]>(`SELECT id::text FROM conversations WHERE status = 'handoff' ORDER BY handoff_at, id LIMIT 50`);
    expect(await page.locator('#handoff-queue tbody tr').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-conversation-id')))).toEqual(queue.map((q) => q.id));
    expect(await row.locator('td').nth(1).textContent()).toBe(userId);
    expect(await row.locator('.last-message').textContent()).toContain('I need to speak with a real person');
    expect(await row.locator('td').nth(3).textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);

    await row.locator('button', { hasText: `Open #${conversationId}` }).click();
    await page.waitForSelector('#handoff-detail #transcript .turn[data-seq="3"]');
    expect(page.url()).toContain(`conversation=${conversationId}`);
    expect(await page.locator('#handoff-detail .turn').count()).toBe(3);
    expect(await page.textContent('#handoff-detail > .handoff-notice, #handoff-detail div > .handoff-notice')).toContain('Handed to a person');

    // A label for the training data.
    const labelled = page.locator('#handoff-detail .turn[data-seq="3"] .label-form');
    await labelled.locator('input[name=intent]').fill('contact_human_agent');
    await labelled.locator('button', { hasText: 'Label' }).click();
    await labelled.locator('.outcome', { hasText: 'Labelled contact_human_agent' }).waitFor();
    expect(await page.textContent('#handoff-detail .turn[data-seq="3"] .turn-label')).toBe(' · labelled contact_human_agent');
    const [labelledTurn] = await rig.db.dataSource.query<{ label: string }[]>(`SELECT label FROM conversation_turns WHERE conversation_id = $1 AND seq = 3`, [conversationId]);
    expect(labelledTurn!.label).toBe('contact_human_agent');
    const training = await rig.db.dataSource.query<{ intent: string }[]>(`SELECT intent FROM labeled_messages WHERE text = 'I need to speak with a real person'`);
    expect(training.map((t) => t.intent)).toEqual(['contact_human_agent']);
    await shot(page, 'handoffs-queue-admin-laptop');
    expect(await seriousViolations(page)).toEqual([]);

    await page.click('#mark-resolved');
    await page.locator('#resolve-outcome', { hasText: 'Resolved' }).waitFor();
    await row.waitFor({ state: 'detached' });
    const [c] = await rig.db.dataSource.query<{ status: string }[]>(`SELECT status FROM conversations WHERE id = $1`, [conversationId]);
    expect(c!.status).toBe('open');
    expect(await page.isDisabled('#mark-resolved')).toBe(true);
    // Still out of the queue after a reload; the opened conversation stays open.
    await page.reload();
    await page.waitForSelector('#handoff-detail #transcript .turn[data-seq="3"]');
    await page.waitForSelector('#handoff-queue, #handoff-queue-out .message.empty');
    expect(await page.locator(`#handoff-queue tr[data-conversation-id="${conversationId}"]`).count()).toBe(0);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('a send whose answer is lost is retried with the same client message id: stored once', async () => {
    const { page, errors } = await openWith(customerKey, 'frontend');
    await page.waitForSelector('#chat-input');
    await page.click('#new-conversation');
    let lost = false;
    await page.route('**/graphql', async (route) => {
      if (!lost && (route.request().postData() ?? '').includes('mutation SendMessage')) {
        lost = true;
        await route.fetch(); // the server stores the turn…
        await route.abort('connectionreset'); // …and the answer never arrives
        return;
      }
      await route.continue();
    });
    await page.fill('#chat-input', ASK_ORDER);
    await page.click('#chat-send');
    await page.locator('#chat-error .message.error', { hasText: 'cannot be reached' }).waitFor({ timeout: 30_000 });
    expect(await page.inputValue('#chat-input')).toBe(ASK_ORDER);
    const id = /conversation=(\d+)/.exec(page.url())![1]!;
    expect(id).not.toBe(conversationId);
    await page.click('#chat-send');
    await page.waitForSelector('#transcript .turn[data-seq="1"]', { timeout: 30_000 });
    expect(await page.locator('#chat-error').textContent()).toBe('');
    const turns = await rig.db.dataSource.query<{ seq: number; client_message_id: string }[]>(`SELECT seq, client_message_id FROM conversation_turns WHERE conversation_id = $1`, [id]);
    expect(turns.length).toBe(1);
    expect(turns[0]!.client_message_id).toMatch(/^[0-9a-f]{32}$/);
    expect(await page.locator('#transcript .turn').count()).toBe(1);
    expect(errors.filter((e) => !e.includes('Failed to load resource'))).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('an admin chats as a user they pick; the user is kept in the URL', async () => {
    const { page, errors } = await openConsole(rig, 'admin', 'laptop', '#/assistant');
    await page.waitForSelector('#assistant-user');
    expect(await page.isDisabled('#chat-input')).toBe(true); // no user yet
    await page.fill('#assistant-user', userId);
    await page.click('#assistant-user-form button[type=submit]');
    await page.waitForSelector('#chat-input:enabled');
    expect(page.url()).toContain(`user=${userId}`);
    await say(page, ASK_ORDER, 1);
    expect((await grounded(page, 1, 'ORDER')).sort()).toEqual(orders.map((o) => o.id).sort());
    expect(page.url()).toMatch(new RegExp(`user=${userId}.*conversation=\\d+|conversation=\\d+.*user=${userId}`));
    await page.reload();
    await page.waitForSelector('#transcript .turn[data-seq="1"]');
    expect(await page.inputValue('#assistant-user')).toBe(userId);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 120_000);

  it("another user's frontend key does not see the conversation: not found, and the message box stays usable", async () => {
    expect(conversationId).not.toBe('');
    const other = await createKey(rig.app, 'FRONTEND', userId === rig.frontendUserId ? '1' : rig.frontendUserId);
    const { page, errors } = await openWith(other, 'frontend', 'laptop', `#/assistant?conversation=${conversationId}`);
    await page.locator('.message.error', { hasText: `Conversation #${conversationId} was not found` }).waitFor();
    expect(await page.locator('#transcript .turn').count()).toBe(0);
    expect(page.url()).not.toContain('conversation=');
    expect(await page.isEnabled('#chat-input')).toBe(true);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('a frontend key without a user is told why it cannot chat; a partner key sees neither tab', async () => {
    const anonymous = await createKey(rig.app, 'FRONTEND');
    const { page } = await openWith(anonymous, 'frontend');
    await page.locator('.message.error', { hasText: 'not bound to a user' }).waitFor();
    expect(await page.locator('#chat-input').count()).toBe(0);
    await page.context().close();

    const partner = await openConsole(rig, 'partner');
    await partner.page.waitForURL(/#\/map/);
    const tabs = await partner.page.locator('#nav a').evaluateAll((as) => as.map((a) => a.getAttribute('data-page')));
    expect(tabs).not.toContain('assistant');
    expect(tabs).not.toContain('handoffs');
    for (const hash of ['#/assistant', '#/handoffs']) {
      await partner.page.evaluate(`location.hash = '${hash}'`);
      await partner.page.locator('.message.error', { hasText: 'not available to a partner key' }).waitFor();
    }
    await partner.page.context().close();
  }, 120_000);

  describe('every size', () => {
    beforeAll(async () => {
      // One conversation in the queue, so every size shows the queue's table too.
      const started = await gql(rig.app, 'mutation($u: ID!) { startConversation(input: { userId: $u }) { id } }', { u: userId });
      const id = started.body.data!.startConversation.id as string;
      const sent = await gql(rig.app, 'mutation($c: ID!) { sendMessage(conversationId: $c, text: "I need to speak with a real person") { handoff } }', { c: id });
      expect(sent.body.data!.sendMessage).toEqual({ handoff: true });
    });

    for (const size of Object.keys(SIZES) as Size[]) {
      it(`on a ${size}: the customer's transcript, the admin's chat and the handoff view; no serious axe violation, no sideways scroll`, async () => {
        expect(conversationId).not.toBe('');
        const customer = await openWith(customerKey, 'frontend', size, `#/assistant?conversation=${conversationId}`);
        const page = customer.page;
        await page.waitForSelector('#transcript .turn[data-seq="3"]', { timeout: 30_000 });
        // Beside the reply on a laptop; under it on a narrow screen.
        const reply = (await turn(page, 2).locator('.reply').boundingBox())!;
        const ground = (await turn(page, 2).locator('.grounding').boundingBox())!;
        if (size === 'laptop') expect(ground.x).toBeGreaterThanOrEqual(reply.x + reply.width);
        else expect(ground.y).toBeGreaterThanOrEqual(reply.y + reply.height);
        // Keyboard: the message box is reachable and Enter sends from it.
        await page.focus('#chat-input');
        expect(await page.evaluate('document.activeElement.tagName')).toBe('TEXTAREA');
        await shot(page, `assistant-frontend-${size}`);
        expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
        expect(await seriousViolations(page)).toEqual([]);
        expect(customer.errors).toEqual([]);
        await page.context().close();

        for (const hash of [`#/assistant?conversation=${conversationId}`, `#/handoffs?conversation=${conversationId}`]) {
          const admin = await openConsole(rig, 'admin', size, hash);
          await admin.page.waitForSelector('#transcript .turn[data-seq="3"]', { timeout: 30_000 });
          await admin.page.waitForSelector(hash.startsWith('#/handoffs') ? '#handoff-queue tbody tr' : '#chat-form');
          await shot(admin.page, `${hash.slice(2, hash.indexOf('?'))}-admin-${size}`);
          expect(await horizontalOverflow(admin.page)).toBeLessThanOrEqual(0);
          expect(await seriousViolations(admin.page)).toEqual([]);
          expect(admin.errors).toEqual([]);
          await admin.page.context().close();
        }
      }, 180_000);
    }
  });
});
