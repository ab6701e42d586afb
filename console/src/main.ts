/**
 * Console entry: the API-key bar and a hash router over the pages. Each page says which roles may
 * use it: the header shows only those tabs, and a key lands on the first of them (a frontend key on
 * its own user). A key the server stops accepting (revoked) is forgotten, header included.
 */
import '../styles.css';
import { ApiError, apiKey, gql, setApiKey, UNAUTHENTICATED_EVENT } from './api';
import { h, message } from './dom';
import { assistantPage } from './pages/assistant.page';
import { explorerPage } from './pages/explorer.page';
import { handoffsPage } from './pages/handoffs.page';
import { keysPage } from './pages/keys.page';
import { mapPage } from './pages/map.page';
import { modelsPage } from './pages/models.page';
import { trendsPage } from './pages/trends.page';
import { userPage } from './pages/user.page';
import type { Role, Viewer } from './viewer';

interface Page {
  readonly title: string;
  readonly roles: readonly Role[];
  /** Renders into root; answers what to stop when the page is left. */
  open(root: HTMLElement, viewer: Viewer): (() => void) | void;
}

const PAGES: Record<string, Page> = {
  map: { title: 'Map', roles: ['ADMIN', 'PARTNER'], open: (root, v) => mapPage(root, v) },
  trends: { title: 'Trends', roles: ['ADMIN', 'PARTNER'], open: (root, v) => trendsPage(root, v) },
  user: { title: 'User', roles: ['ADMIN', 'FRONTEND'], open: (root, v) => userPage(root, v.userId) },
  assistant: { title: 'Assistant', roles: ['ADMIN', 'FRONTEND'], open: (root, v) => assistantPage(root, v) },
  handoffs: { title: 'Handoffs', roles: ['ADMIN'], open: (root) => handoffsPage(root) },
  models: { title: 'Models & jobs', roles: ['ADMIN'], open: (root) => modelsPage(root) },
  keys: { title: 'API keys', roles: ['ADMIN'], open: (root) => keysPage(root) },
  explorer: { title: 'Explorer', roles: ['ADMIN', 'FRONTEND'], open: (root, v) => explorerPage(root, v) },
};

const page = document.getElementById('page')!;
const nav = document.getElementById('nav')!;
const viewerEl = document.getElementById('viewer')!;
const keyInput = document.getElementById('key-input') as HTMLInputElement;
let viewer: Viewer | null = null;
let leave: (() => void) | void;

function allowed(v: Viewer): string[] {
  return Object.keys(PAGES).filter((name) => PAGES[name]!.roles.includes(v.role));
}

function renderNav(): void {
  nav.replaceChildren(...(viewer ? allowed(viewer) : []).map((name) => h('a', { href: `#/${name}`, 'data-page': name }, PAGES[name]!.title)));
  markActive();
}

function markActive(): void {
  const name = location.hash.replace(/^#\//, '').split('?')[0];
  for (const a of nav.querySelectorAll('a')) {
    const active = a.dataset.page === name;
    a.classList.toggle('active', active);
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** Clears who the console thinks it is (header, tabs, page) and, when the server refused it, the stored key. */
function forget(text: string | null, dropKey = false): void {
  leave?.();
  leave = undefined;
  viewer = null;
  viewerEl.textContent = '';
  viewerEl.removeAttribute('title');
  if (dropKey) setApiKey('');
  renderNav();
  page.replaceChildren(text ? message('error', text) : message('info', 'Enter an API key above. The first start of the server prints an admin key (`npm run keys` lists keys); admins create more in the Keys page or with createApiKey.'));
}

/** Counts connects: only the latest one's answer may set the header (two quick Connects race). */
let connects = 0;

async function connect(): Promise<void> {
  const attempt = ++connects;
  if (!apiKey()) return forget(null);
  try {
    const answer = (await gql<{ viewer: Viewer }>('query Viewer { viewer { role name userId } }')).viewer;
    if (attempt !== connects) return;
    viewer = answer;
    viewerEl.textContent = `${viewer.role.toLowerCase()} · ${viewer.name}`;
    viewerEl.title = viewerEl.textContent;
    renderNav();
    route();
  } catch (err) {
    if (attempt !== connects) return;
    const refused = err instanceof ApiError && err.code === 'UNAUTHENTICATED';
    forget(refused ? 'This API key is not valid (or was revoked).' : err instanceof Error ? err.message : String(err), refused);
  }
}

function route(): void {
  leave?.();
  leave = undefined;
  if (!viewer) return;
  const pages = allowed(viewer);
  const name = location.hash.replace(/^#\//, '').split('?')[0] ?? '';
  if (!pages.includes(name)) {
    const target = PAGES[name];
    if (target) {
      page.replaceChildren(h('h2', {}, target.title), message('error', `${target.title} is not available to a ${viewer.role.toLowerCase()} key. ${pages.length ? `Try ${pages.map((p) => PAGES[p]!.title).join(', ')}.` : ''}`));
      markActive();
      return;
    }
    location.replace(`#/${pages[0] ?? 'map'}`); // a key lands on its first page
    return;
  }
  markActive();
  leave = PAGES[name]!.open(page, viewer);
}

document.getElementById('key-form')!.addEventListener('submit', (e) => {
  e.preventDefault();
  setApiKey(keyInput.value);
  keyInput.value = '';
  void connect();
});
window.addEventListener('hashchange', route);
window.addEventListener(UNAUTHENTICATED_EVENT, (e) => {
  // A late answer to a request made with an earlier key must not forget the key entered since.
  if (viewer && (e as CustomEvent<string>).detail === apiKey()) forget('This API key is no longer accepted (revoked?). Enter another one.', true);
});
void connect();
