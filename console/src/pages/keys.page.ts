/**
 * API keys (admin key), like Hasura's console: the keys listed, a new one created (its secret shown
 * once, with a copy button) and any revoked, each confirmed, its outcome beside its button.
 */
import '../admin/admin.css';
import { apiKey, gql, isAborted, requestSlot } from '../api';
import { field, h, message, showError } from '../dom';
import { confirmButton, Outcomes } from '../admin/confirm-button';
import { when } from '../admin/job';

interface ApiKey {
  id: string; name: string; role: string; prefix: string; userId: string | null; createdAt: string; lastUsedAt: string | null; revokedAt: string | null;
}

const KEYS = `query ApiKeys { apiKeys { id name role prefix userId createdAt lastUsedAt revokedAt } }`;
const CREATE = `mutation CreateApiKey($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret record { id name role prefix userId } } }`;
const REVOKE = `mutation RevokeApiKey($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`;

const ROLES = [
  ['PARTNER', 'partner: aggregated analytics, privacy-protected'],
  ['FRONTEND', 'frontend: recommendations for one user'],
  ['ADMIN', 'admin: everything'],
] as const;

export function keysPage(root: HTMLElement): () => void {
  const outcomes = new Outcomes();
  const slot = requestSlot();
  const list = h('div', { id: 'keys' }, message('info', 'Loading keys…'));

  const name = h('input', { name: 'name', required: true, maxlength: 100, placeholder: 'e.g. shop frontend' });
  const role = h('select', { name: 'role' }, ...ROLES.map(([v, label]) => h('option', { value: v }, label)));
  const userId = h('input', { name: 'userId', inputmode: 'numeric', placeholder: 'optional' });
  const userField = field('User ID (frontend keys: the user they act for)', userId);
  const submit = h('button', { type: 'submit' }, 'Create key');
  const created = h('div', { id: 'created-key' });
  const form = h('form', { class: 'controls', id: 'create-key', onsubmit: (e: Event) => { e.preventDefault(); void create(); } },
    field('Name', name), field('Role', role), userField, submit);
  const syncRole = () => {
    userField.hidden = role.value !== 'FRONTEND';
    if (userField.hidden) userId.value = '';
  };
  role.addEventListener('change', syncRole);
  syncRole();

  root.replaceChildren(
    h('h2', {}, 'API keys'),
    h('section', { class: 'panel', 'aria-labelledby': 'create-title' }, h('h3', { id: 'create-title' }, 'Create a key'), form, created),
    h('section', { class: 'panel', 'aria-labelledby': 'keys-title' }, h('h3', { id: 'keys-title' }, 'Keys'), list),
  );

  async function load(): Promise<void> {
    try {
      const { apiKeys } = await gql<{ apiKeys: ApiKey[] }>(KEYS, {}, slot.next());
      if (!apiKeys.length) {
        list.replaceChildren(message('empty', 'No keys.'));
        return;
      }
      const mine = apiKey();
      list.replaceChildren(h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'API keys table' }, h('table', { class: 'keys' },
        h('caption', { class: 'sr-only' }, 'API keys'),
        h('thead', {}, h('tr', {}, ...['Name', 'Role', 'Prefix', 'User', 'Created', 'Last used', 'Status'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...apiKeys.map((k) => {
          const own = mine.startsWith(`mk_${k.prefix}_`);
          return h('tr', { 'data-key-id': k.id, 'data-prefix': k.prefix, class: k.revokedAt ? 'revoked' : '' },
            h('th', { scope: 'row' }, k.name, own ? h('small', {}, ' (this key)') : null),
            h('td', {}, k.role.toLowerCase()),
            h('td', {}, h('code', {}, k.prefix)),
            h('td', {}, k.userId ?? '–'),
            h('td', {}, when(k.createdAt)),
            h('td', {}, when(k.lastUsedAt)),
            h('td', { class: 'key-status' }, k.revokedAt
              ? h('span', {}, `revoked ${when(k.revokedAt)} `, outcomes.view(`revoke:${k.id}`))
              : confirmButton({
                  label: 'Revoke', key: `revoke:${k.id}`, outcomes,
                  question: `Revoke the ${k.role.toLowerCase()} key "${k.name}" (${k.prefix})? Every request with it is refused from now on.${own ? ' It is the key you are using: the console disconnects.' : ''}`,
                  run: async () => {
                    await gql(REVOKE, { id: k.id });
                    return 'Revoked: requests with it are refused.';
                  },
                  then: load,
                })));
        })))));
    } catch (err) {
      if (!isAborted(err)) showError(list, err);
    }
  }

  async function create(): Promise<void> {
    if (!name.value.trim()) {
      created.replaceChildren(message('error', 'Give the key a name (who or what uses it).'));
      name.focus();
      return;
    }
    submit.disabled = true;
    try {
      const d = await gql<{ createApiKey: { secret: string; record: ApiKey } }>(CREATE, {
        i: { name: name.value.trim(), role: role.value, userId: role.value === 'FRONTEND' && userId.value.trim() ? userId.value.trim() : null },
      });
      showSecret(d.createApiKey.secret, d.createApiKey.record);
      name.value = '';
      await load();
    } catch (err) {
      showError(created, err);
    } finally {
      submit.disabled = false;
    }
  }

  /** The secret, once: it is not stored anywhere the console (or the server) can show it again. */
  function showSecret(secret: string, k: ApiKey): void {
    const input = h('input', { id: 'new-secret', readonly: true, value: secret, 'aria-label': `Secret of the new key ${k.name}` });
    const copied = h('span', { class: 'outcome ok', role: 'status' });
    const copy = h('button', { type: 'button', id: 'copy-secret' }, 'Copy');
    copy.addEventListener('click', () => {
      input.select();
      const done = () => { copied.textContent = 'Copied.'; };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(secret).then(done, () => {
          copied.textContent = 'Copy failed: the key is selected, press Ctrl+C.';
        });
      } else {
        copied.textContent = 'The key is selected: press Ctrl+C.';
      }
    });
    const dismiss = h('button', { type: 'button', class: 'secondary' }, 'I have saved it');
    dismiss.addEventListener('click', () => created.replaceChildren());
    created.replaceChildren(h('div', { class: 'secret-box', role: 'region', 'aria-label': 'New key' },
      h('p', {}, h('strong', {}, `Key "${k.name}" (${k.role.toLowerCase()}${k.userId ? `, user ${k.userId}` : ''}) created. `),
        'Copy it now: it is shown only this once (the server keeps only its hash).'),
      h('div', { class: 'secret-row' }, input, copy, dismiss, copied)));
    input.focus();
    input.select();
  }

  void load();
  return () => {
    slot.cancel();
    created.replaceChildren();
  };
}
