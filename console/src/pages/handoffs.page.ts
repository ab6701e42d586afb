/**
 * Handoffs page (admins): the assistant's handoff queue — conversations waiting for a person,
 * oldest handoff first, with user, reason, time and last message. Opening one shows its transcript
 * (kept in the URL), a "Mark resolved" button (back to OPEN: it leaves the queue) and, per turn, an
 * intent label for the INTENT training data.
 */
import '../admin/admin.css';
import { gql, isAborted, requestSlot } from '../api';
import { plural } from '../charts/format';
import { field, h, message, showError } from '../dom';
import { type Conversation, handoffNotice, labelText, reasonText, transcriptLog, type Turn, when } from '../assistant/transcript';
import { readParams, writeParams } from '../url-state';

const QUEUE = `query HandoffQueue($after: String) {
  conversations(status: HANDOFF, first: 50, after: $after) {
    edges { node { id userId status handoffReason handoffAt turnCount turns(last: 1) { text reply createdAt } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const DETAIL = `query HandoffConversation($id: ID!) {
  conversation(id: $id) {
    id userId locale replyLocale status handoffReason handoffAt turnCount
    turns(last: 200) {
      id seq text reply replySource intent { intent confidence } confidence grounding { kind id fields }
      actions { kind label payload } handoff handoffReason modelVersion label createdAt
    }
  }
}`;

const RESOLVE = `mutation ResolveConversation($id: ID!) { setConversationStatus(id: $id, status: OPEN) { id status handoffReason handoffAt } }`;

const LABEL = `mutation LabelTurn($turnId: ID!, $intent: String!) { labelTurn(turnId: $turnId, intent: $intent) { id label } }`;

const KNOWN_LABELS = 'query IntentLabels { labeledMessageIntents { intent } }';

interface QueueItem {
  id: string;
  userId: string;
  status: string;
  handoffReason: string | null;
  handoffAt: string | null;
  turnCount: number;
  turns: { text: string; reply: string; createdAt: string }[];
}

interface QueueData {
  conversations: { edges: { node: QueueItem }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

const INTENT = /^[a-z0-9_]{1,100}$/;

export function handoffsPage(root: HTMLElement): () => void {
  const queueSlot = requestSlot();
  const detailSlot = requestSlot();
  let left = false;
  let openId: string | null = readParams().get('conversation');
  let items: QueueItem[] = [];
  const status = h('p', { id: 'handoffs-status', class: 'sr-only', role: 'status' });
  const refresh = h('button', { type: 'button', id: 'refresh-queue', onclick: () => void loadQueue() }, 'Refresh');
  const queueOut = h('div', { id: 'handoff-queue-out' });
  const more = h('button', { type: 'button', id: 'more-handoffs', hidden: true }, 'More');
  const detail = h('section', { id: 'handoff-detail', class: 'panel', 'aria-label': 'Conversation', hidden: true });
  const labels = h('datalist', { id: 'intent-options' });
  root.replaceChildren(
    h('h2', {}, 'Handoffs'),
    h('section', { class: 'panel', 'aria-labelledby': 'queue-title' },
      h('div', { class: 'queue-head' }, h('h3', { id: 'queue-title' }, 'Waiting for a person'), refresh),
      h('p', { class: 'chat-note' }, 'Conversations the assistant handed over, oldest handoff first. Mark one resolved when a person has taken care of it.'),
      queueOut, more),
    detail, status, labels,
  );

  let cursor: string | null = null;
  more.addEventListener('click', () => void loadQueue(true));

  async function loadQueue(append = false): Promise<void> {
    const signal = queueSlot.next();
    refresh.disabled = true;
    more.disabled = true;
    if (!append) queueOut.replaceChildren(message('info', 'Loading…'));
    try {
      const d = await gql<QueueData>(QUEUE, { after: append ? cursor : null }, signal);
      if (left || signal.aborted) return;
      const page = d.conversations.edges.map((e) => e.node);
      items = append ? [...items, ...page] : page;
      cursor = d.conversations.pageInfo.endCursor;
      more.hidden = !d.conversations.pageInfo.hasNextPage;
      renderQueue();
      status.textContent = `${plural(items.length, 'conversation')} waiting for a person.`;
    } catch (err) {
      if (left || isAborted(err) || signal.aborted) return;
      showError(queueOut, err);
    } finally {
      if (!signal.aborted) {
        refresh.disabled = false;
        more.disabled = false;
      }
    }
  }

  function renderQueue(): void {
    if (!items.length) {
      queueOut.replaceChildren(h('div', { class: 'message empty' }, 'No conversation is waiting for a person.'));
      return;
    }
    queueOut.replaceChildren(h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Handoff queue' },
      h('table', { id: 'handoff-queue' },
        h('thead', {}, h('tr', {}, ...['Conversation', 'User', 'Reason', 'Handed over', 'Last message'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, ...items.map((c) => {
          const last = c.turns[c.turns.length - 1];
          return h('tr', { 'data-conversation-id': c.id, class: c.id === openId ? 'selected' : undefined, 'aria-current': c.id === openId ? 'true' : undefined },
            h('td', {}, h('button', { type: 'button', class: 'link-button', onclick: () => open(c.id) }, `Open #${c.id}`)),
            h('td', {}, c.userId),
            h('td', { class: 'reason' }, reasonText(c.handoffReason)),
            h('td', {}, when(c.handoffAt)),
            h('td', { class: 'last-message' }, last ? clip(last.text) : '–', ` (${plural(c.turnCount, 'message')})`));
        })))));
  }

  function open(id: string): void {
    openId = id;
    writeParams({ conversation: id });
    renderQueue();
    void loadDetail(id);
  }

  async function loadDetail(id: string): Promise<void> {
    const signal = detailSlot.next();
    detail.hidden = false;
    detail.replaceChildren(message('info', `Loading conversation #${id}…`));
    try {
      const d = await gql<{ conversation: Conversation }>(DETAIL, { id }, signal);
      if (left || signal.aborted) return;
      renderDetail(d.conversation);
      for (const t of d.conversation.turns) addLabel(t.intent.intent);
      detail.querySelector<HTMLElement>('h3')?.focus();
    } catch (err) {
      if (left || isAborted(err) || signal.aborted) return;
      showError(detail, err);
    }
  }

  function renderDetail(c: Conversation): void {
    const outcome = h('span', { class: 'outcome', role: 'status', id: 'resolve-outcome' });
    const resolve = h('button', { type: 'button', id: 'mark-resolved' }, 'Mark resolved');
    const state = h('p', { id: 'detail-status', class: 'chat-note' }, statusText(c));
    resolve.addEventListener('click', () => void markResolved());
    async function markResolved(): Promise<void> {
      resolve.disabled = true;
      outcome.className = 'outcome';
      outcome.textContent = 'Resolving…';
      try {
        const d = await gql<{ setConversationStatus: { status: Conversation['status'] } }>(RESOLVE, { id: c.id });
        if (left) return;
        c.status = d.setConversationStatus.status;
        outcome.className = 'outcome ok';
        outcome.textContent = `Resolved: conversation #${c.id} is open again and left the queue.`;
        state.textContent = statusText(c);
        notice.replaceChildren();
        void loadQueue();
      } catch (err) {
        if (left) return;
        resolve.disabled = false;
        outcome.className = 'outcome error';
        outcome.textContent = `Not resolved: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    const notice = h('div', {}, c.status === 'HANDOFF' ? handoffNotice(c.handoffReason, c.handoffAt) : null);
    detail.replaceChildren(
      h('h3', { tabindex: -1 }, `Conversation #${c.id} · user ${c.userId}`),
      state, notice,
      c.status === 'HANDOFF' ? h('div', { class: 'resolve' }, resolve, outcome) : h('p', { class: 'chat-note', id: 'not-queued' }, 'Not in the handoff queue.'),
      transcriptLog(c.turns, { customer: 'Customer', extra: labelControl }, `Conversation #${c.id}`),
    );
  }

  function statusText(c: Conversation): string {
    return `Status ${c.status.toLowerCase()} · ${plural(c.turnCount, 'message')}${c.turnCount > c.turns.length ? ` (the last ${c.turns.length} shown)` : ''} · locale ${c.locale}`;
  }

  /** The per-turn intent label (labelTurn): the message joins the INTENT training data under it. */
  function labelControl(t: Turn): HTMLElement {
    const input = h('input', {
      name: 'intent', id: `label-${t.id}`, list: 'intent-options', value: t.label ?? '', placeholder: t.intent.intent,
      pattern: '[a-z0-9_]{1,100}', autocomplete: 'off', size: 18,
    });
    const outcome = h('span', { class: 'outcome', role: 'status' });
    const button = h('button', { type: 'submit' }, 'Label');
    async function submit(): Promise<void> {
      const intent = input.value.trim() || t.intent.intent;
      if (!INTENT.test(intent)) {
        outcome.className = 'outcome error';
        outcome.textContent = 'An intent is 1–100 lowercase letters, digits and _.';
        return;
      }
      button.disabled = true;
      try {
        const d = await gql<{ labelTurn: { label: string } }>(LABEL, { turnId: t.id, intent });
        if (left) return;
        input.value = d.labelTurn.label;
      form.closest('.turn')?.querySelector('.turn-label')?.replaceChildren(...labelText(d.labelTurn.label));
        addLabel(d.labelTurn.label);
        outcome.className = 'outcome ok';
        outcome.textContent = `Labelled ${d.labelTurn.label}`;
      } catch (err) {
        if (left) return;
        outcome.className = 'outcome error';
        outcome.textContent = `Not labelled: ${err instanceof Error ? err.message : String(err)}`;
      } finally {
        button.disabled = false;
      }
    }
    const form = h('form', { class: 'label-form', 'data-turn-id': t.id, onsubmit: (e: Event) => { e.preventDefault(); void submit(); } }, field('Label intent (training data)', input), button, outcome);
    return form;
  }

  function addLabel(intent: string): void {
    if (![...labels.options].some((o) => o.value === intent)) labels.append(h('option', { value: intent }));
  }

  void gql<{ labeledMessageIntents: { intent: string }[] }>(KNOWN_LABELS)
    .then((d) => {
      if (!left) for (const l of d.labeledMessageIntents) addLabel(l.intent);
    })
    .catch(() => undefined);
  void loadQueue();
  if (openId && /^\d{1,18}$/.test(openId)) void loadDetail(openId);
  return () => {
    left = true;
    queueSlot.cancel();
    detailSlot.cancel();
  };
}

function clip(s: string, n = 120): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
