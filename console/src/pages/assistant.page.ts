/**
 * Assistant page: chat with the customer-service assistant. A frontend key chats as its own user;
 * an admin picks the user to chat as. The conversation (and an admin's user) live in the URL, so a
 * reload shows the same transcript. Each send carries a clientMessageId, kept for a retry of the
 * same text after a failure, so a message the server stored before the answer was lost is not
 * stored twice.
 */
import { ApiError, gql, isAborted, requestSlot } from '../api';
import { plural } from '../charts/format';
import { field, h, message } from '../dom';
import { type Conversation, handoffNotice, MAX_MESSAGE, transcriptLog, type Turn, turnView } from '../assistant/transcript';
import { readParams, writeParams } from '../url-state';
import type { Viewer } from '../viewer';

const CONVERSATION = `query AssistantConversation($id: ID!) {
  conversation(id: $id) {
    id userId locale replyLocale status handoffReason handoffAt turnCount
    turns(last: 200) {
      id seq text reply replySource intent { intent confidence } confidence grounding { kind id fields }
      actions { kind label payload } handoff handoffReason modelVersion label createdAt
    }
  }
}`;

const START = `mutation StartConversation($input: StartConversationInput!) {
  startConversation(input: $input) { id userId locale replyLocale status handoffReason handoffAt turnCount }
}`;

const SEND = `mutation SendMessage($conversationId: ID!, $text: String!, $clientMessageId: String) {
  sendMessage(conversationId: $conversationId, text: $text, clientMessageId: $clientMessageId) {
    id seq text reply replySource intent { intent confidence } confidence grounding { kind id fields }
    actions { kind label payload } handoff handoffReason modelVersion label createdAt
  }
}`;

/** A client message id: 32 random hex digits (crypto.getRandomValues works on plain http too). */
function newMessageId(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function assistantPage(root: HTMLElement, viewer: Viewer): () => void {
  const isAdmin = viewer.role === 'ADMIN';
  root.replaceChildren(h('h2', {}, 'Assistant'));
  if (!isAdmin && !viewer.userId) {
    root.append(message('error', 'This frontend key is not bound to a user, and the assistant answers a user about their own orders. Ask an admin for a frontend key created for a user (Keys page: role frontend, with a user id).'));
    return () => undefined;
  }

  const params = readParams();
  const slot = requestSlot();
  let sending: AbortController | null = null;
  let left = false;
  let conv: Omit<Conversation, 'turns'> | null = null;
  /** The last send that failed: the same text is retried with the same id. */
  let failed: { conversationId: string; text: string; id: string } | null = null;

  // ---- who the chat is with
  const userInput = h('input', { name: 'userId', id: 'assistant-user', type: 'number', min: 1, step: 1, inputmode: 'numeric', value: params.get('user') ?? '', placeholder: 'user id' });
  const who = isAdmin
    ? h('form', { class: 'controls panel', id: 'assistant-user-form', onsubmit: (e: Event) => { e.preventDefault(); chooseUser(); } },
        field('Chat as user id', userInput), h('button', { type: 'submit' }, 'Open'),
        h('button', { type: 'button', id: 'new-conversation', onclick: () => reset() }, 'New conversation'),
        h('p', { class: 'chat-note' }, 'Admins may chat as any user: the assistant reads that user\'s orders.'))
    : h('div', { class: 'controls panel' },
        h('p', { class: 'chat-note' }, `You chat as user ${viewer.userId} (this key's user).`),
        h('button', { type: 'button', id: 'new-conversation', onclick: () => reset() }, 'New conversation'));

  // ---- status, transcript, composer
  const statusLine = h('p', { id: 'conversation-status', class: 'chat-note' });
  const banner = h('div', { id: 'handoff-banner' });
  const logSlot = h('div', { class: 'transcript-slot' });
  const pending = h('div', { id: 'pending', class: 'pending', hidden: true });
  const errorBox = h('div', { id: 'chat-error' });
  const input = h('textarea', {
    id: 'chat-input', name: 'message', rows: 2, maxlength: MAX_MESSAGE, 'aria-describedby': 'chat-count chat-hint',
    placeholder: 'Ask about an order, a delivery, a return, a product…',
  });
  const count = h('span', { id: 'chat-count' }, `0 / ${MAX_MESSAGE} characters`);
  const send = h('button', { type: 'submit', id: 'chat-send' }, 'Send');
  const form = h('form', { id: 'chat-form', class: 'composer', onsubmit: (e: Event) => { e.preventDefault(); void sendMessage(); } },
    h('label', { for: 'chat-input' }, 'Message'),
    input,
    h('div', { class: 'composer-foot' }, h('span', { id: 'chat-hint' }, 'Enter sends; Shift+Enter starts a new line.'), count, send));
  input.addEventListener('input', updateCount);
  userInput.addEventListener('change', () => chooseUser(false));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (!send.disabled) form.requestSubmit();
    }
  });

  root.append(who, h('section', { class: 'panel chat', 'aria-label': 'Chat' }, statusLine, banner, logSlot, pending, errorBox, form));

  function updateCount(): void {
    const n = input.value.length;
    count.textContent = `${n} / ${MAX_MESSAGE} characters`;
    count.classList.toggle('near-limit', n > MAX_MESSAGE * 0.9);
  }

  function customerName(): string {
    return isAdmin ? `User ${conv?.userId ?? userInput.value}` : 'You';
  }

  function chatUserId(): string {
    return isAdmin ? userInput.value.trim() : viewer.userId!;
  }

  function showStatus(): void {
    if (!conv) {
      statusLine.textContent = isAdmin && !userInput.value.trim()
        ? 'Enter a user id to chat as.'
        : 'New conversation: it starts with your first message.';
      banner.replaceChildren();
      input.disabled = isAdmin && !userInput.value.trim();
      send.disabled = input.disabled;
      return;
    }
    const status = conv.status === 'HANDOFF' ? 'waiting for a person' : conv.status.toLowerCase();
    statusLine.textContent = `Conversation #${conv.id} · user ${conv.userId} · ${status} · ${plural(conv.turnCount, 'message')}${conv.replyLocale !== conv.locale ? ` · replies in ${conv.replyLocale}` : ''}`;
    banner.replaceChildren(...(conv.status === 'HANDOFF'
      ? [h('div', { class: 'handoff-banner' }, handoffNotice(conv.handoffReason, conv.handoffAt),
          h('p', { class: 'chat-note' }, 'A member of the team takes it from here; the assistant still answers messages meanwhile.'))]
      : conv.status === 'CLOSED' ? [message('info', 'This conversation is closed. Start a new conversation to write again.')] : []));
    input.disabled = conv.status === 'CLOSED';
    send.disabled = input.disabled;
  }

  function emptyLog(): void {
    logSlot.replaceChildren(transcriptLog([], { customer: customerName() }), h('p', { class: 'chat-empty message empty' },
      'Ask about your orders, deliveries, returns, payments, your account or a product. Every reply shows the records it rests on.'));
  }

  /**
   * The log region for a new turn: the one on the page (a live region is announced only if it was
   * there before the change), else a new one in place of a message.
   */
  function ensureLog(): HTMLElement {
    for (const el of [...logSlot.children]) if (el.id !== 'transcript') el.remove();
    let log = logSlot.querySelector<HTMLElement>('#transcript');
    if (!log) {
      log = transcriptLog([], { customer: customerName() });
      logSlot.append(log);
    }
    return log;
  }

  function reset(focus = true): void {
    slot.cancel();
    sending?.abort();
    conv = null;
    failed = null;
    writeParams({ conversation: null, user: isAdmin ? userInput.value.trim() || null : null });
    errorBox.replaceChildren();
    pending.hidden = true;
    emptyLog();
    showStatus();
    if (focus && !input.disabled) input.focus();
  }

  /** An admin's user id, taken on Open or when the field is left: another user's conversation is not continued. */
  function chooseUser(focus = true): void {
    const u = userInput.value.trim();
    if (u && !/^\d{1,18}$/.test(u)) {
      errorBox.replaceChildren(message('error', 'A user id is a whole number.'));
      return;
    }
    errorBox.replaceChildren();
    if (conv && conv.userId === u) return;
    reset(focus);
  }

  async function load(id: string): Promise<void> {
    const signal = slot.next();
    statusLine.textContent = `Loading conversation #${id}…`;
    logSlot.replaceChildren(message('info', 'Loading…'));
    try {
      const d = await gql<{ conversation: Conversation }>(CONVERSATION, { id }, signal);
      if (left || signal.aborted) return;
      const { turns, ...c } = d.conversation;
      conv = c;
      if (isAdmin) {
        userInput.value = c.userId;
        writeParams({ user: c.userId });
      }
      logSlot.replaceChildren(transcriptLog(turns, { customer: customerName() }));
      if (!turns.length) logSlot.append(h('p', { class: 'chat-empty message empty' }, 'No messages yet.'));
      showStatus();
    } catch (err) {
      if (left || isAborted(err) || signal.aborted) return;
      conv = null;
      const gone = err instanceof ApiError && err.code === 'NOT_FOUND';
      if (gone) {
        // Another user's or a deleted conversation: start afresh (the server does not say which).
        writeParams({ conversation: null });
        showStatus();
        logSlot.replaceChildren(message('error', `Conversation #${id} was not found for this key. Your next message starts a new conversation.`));
        return;
      }
      statusLine.textContent = '';
      input.disabled = true;
      send.disabled = true;
      logSlot.replaceChildren(message('error', err instanceof Error ? err.message : String(err)),
        h('button', { type: 'button', onclick: () => void load(id) }, 'Try again'));
    }
  }

  async function sendMessage(): Promise<void> {
    const text = input.value.trim();
    if (!text || send.disabled) return;
    const userId = conv?.userId ?? chatUserId();
    if (!userId) {
      errorBox.replaceChildren(message('error', 'Enter a user id to chat as.'));
      return;
    }
    const ctl = new AbortController();
    sending = ctl;
    input.disabled = true;
    send.disabled = true;
    form.setAttribute('aria-busy', 'true');
    errorBox.replaceChildren();
    pending.hidden = false;
    pending.replaceChildren(h('div', { class: 'bubble customer' }, h('span', { class: 'who' }, `${customerName()}: `), text),
      h('p', { class: 'chat-note' }, 'The assistant is answering…'));
    try {
      if (!conv) {
        const d = await gql<{ startConversation: Omit<Conversation, 'turns'> }>(START, { input: { userId } }, ctl.signal);
        if (left || ctl.signal.aborted) return;
        conv = d.startConversation;
        writeParams({ conversation: conv.id, user: isAdmin ? conv.userId : null });
      }
      const c = conv;
      const id = failed && failed.conversationId === c.id && failed.text === text ? failed.id : newMessageId();
      failed = { conversationId: c.id, text, id }; // until the answer arrives
      const d = await gql<{ sendMessage: Turn }>(SEND, { conversationId: c.id, text, clientMessageId: id }, ctl.signal);
      if (left || ctl.signal.aborted) return;
      failed = null;
      const t = d.sendMessage;
      const log = ensureLog();
      if (!log.querySelector(`[data-turn-id="${t.id}"]`)) {
        const view = turnView(t, { customer: customerName() });
        log.append(view);
        view.scrollIntoView({ block: 'nearest' });
      }
      conv = { ...c, turnCount: Math.max(c.turnCount, t.seq), ...(t.handoff ? { status: 'HANDOFF', handoffReason: t.handoffReason, handoffAt: c.status === 'HANDOFF' ? c.handoffAt : t.createdAt } : {}) };
      input.value = '';
      updateCount();
    } catch (err) {
      if (left || isAborted(err) || ctl.signal.aborted) return;
      const network = err instanceof ApiError && err.code === 'NETWORK';
      errorBox.replaceChildren(message('error', network
        ? 'Not sent: the server cannot be reached. Your message is still in the box; Send again — it will not be stored twice.'
        : `Not sent: ${err instanceof Error ? err.message : String(err)}`));
    } finally {
      if (sending === ctl) sending = null;
      if (!left && !ctl.signal.aborted) {
        pending.hidden = true;
        pending.replaceChildren();
        form.removeAttribute('aria-busy');
        showStatus();
        if (!input.disabled) input.focus();
      }
    }
  }

  const wanted = params.get('conversation');
  if (wanted && /^\d{1,18}$/.test(wanted)) {
    showStatus();
    void load(wanted);
  } else {
    emptyLog();
    showStatus();
  }
  return () => {
    left = true;
    slot.cancel();
    sending?.abort();
  };
}
