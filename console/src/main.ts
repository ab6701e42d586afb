/** Console entry: the API-key bar and a hash router over the four pages. */
import { ApiError, apiKey, gql, setApiKey } from './api';
import { h, message } from './dom';
import { mapPage } from './pages/map.page';
import { modelsPage } from './pages/models.page';
import { trendsPage } from './pages/trends.page';
import { userPage } from './pages/user.page';

interface Viewer {
  role: string;
  name: string;
  userId: string | null;
}

const page = document.getElementById('page')!;
const viewerEl = document.getElementById('viewer')!;
const keyInput = document.getElementById('key-input') as HTMLInputElement;
let viewer: Viewer | null = null;
let leave: (() => void) | void;

async function connect(): Promise<void> {
  viewer = null;
  if (!apiKey()) {
    viewerEl.textContent = '';
    page.replaceChildren(message('info', 'Enter an API key above. The first start of the server prints an admin key; admins create more with createApiKey.'));
    return;
  }
  try {
    viewer = (await gql<{ viewer: Viewer }>('{ viewer { role name userId } }')).viewer;
    viewerEl.textContent = `${viewer.role.toLowerCase()} · ${viewer.name}`;
    route();
  } catch (err) {
    viewerEl.textContent = '';
    const text = err instanceof ApiError && err.code === 'UNAUTHENTICATED' ? 'This API key is not valid (or was revoked).' : err instanceof Error ? err.message : String(err);
    page.replaceChildren(message('error', text));
  }
}

function route(): void {
  leave?.();
  leave = undefined;
  const name = (location.hash.replace(/^#\//, '') || 'map').split('?')[0];
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', a.getAttribute('href') === `#/${name}`);
  if (!viewer) return;
  if (name === 'models' && viewer.role !== 'ADMIN') {
    page.replaceChildren(h('h2', {}, 'Models & jobs'), message('error', 'Models and jobs need an admin key.'));
    return;
  }
  switch (name) {
    case 'trends':
      leave = trendsPage(page);
      break;
    case 'user':
      userPage(page, viewer.userId);
      break;
    case 'models':
      leave = modelsPage(page);
      break;
    default:
      leave = mapPage(page);
  }
}

document.getElementById('key-form')!.addEventListener('submit', (e) => {
  e.preventDefault();
  setApiKey(keyInput.value);
  keyInput.value = '';
  void connect();
});
window.addEventListener('hashchange', route);
void connect();
