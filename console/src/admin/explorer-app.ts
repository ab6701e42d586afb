/**
 * GraphiQL (from npm, bundled: no CDN) over the console's key, loaded only when the explorer
 * opens. Docs and autocomplete come from the checked-in schema (schema/schema.graphql), so they
 * work where the server turns introspection off (production). Queries and mutations go over HTTP,
 * subscriptions over graphql-ws, each with the key entered in the header.
 */
import './vendor/graphiql.css';
import './explorer.css';
import { GraphiQL, type GraphiQLProps } from 'graphiql';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import schemaText from '../../../schema/schema.graphql';
import { apiKey } from '../api';

let schema: GraphQLSchema | null = null;

/** The checked-in SDL as a schema (built once). */
function checkedInSchema(): GraphQLSchema {
  schema ??= buildSchema(schemaText);
  return schema;
}

type Fetcher = GraphiQLProps['fetcher'];
type FetcherParams = Parameters<Fetcher>[0];
type FetcherResult = ReturnType<Fetcher>;

function isSubscription(p: FetcherParams): boolean {
  const name = p.operationName;
  const re = name ? new RegExp(`\\bsubscription\\s+${name}\\b`) : /^\s*subscription\b/m;
  return re.test(p.query.replace(/#[^\n]*/g, ''));
}

export interface MountedExplorer {
  unmount(): void;
}

/** Renders GraphiQL into `el`; `defaultQuery` is what a first visit shows. */
export function mountExplorer(el: HTMLElement, defaultQuery: string): MountedExplorer {
  const key = apiKey();
  const endpoint = new URL('/graphql', location.href);
  let ws: Client | null = null;
  const fetcher: Fetcher = (params, opts) => {
    if (isSubscription(params)) {
      if (!ws) {
        const url = new URL(endpoint);
        url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
        ws = createClient({ url: url.toString(), connectionParams: { authorization: `Bearer ${key}` }, lazy: true, retryAttempts: 0 });
      }
      // graphql-ws yields formatted results (plain error objects), which is what GraphiQL shows.
      return ws.iterate({ query: params.query, operationName: params.operationName ?? undefined, variables: (params.variables ?? {}) as Record<string, unknown> }) as unknown as FetcherResult;
    }
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts?.headers ?? {})) if (typeof v === 'string') extra[k] = v;
    return fetch(endpoint, {
      method: 'POST',
      headers: { ...extra, 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: params.query, operationName: params.operationName ?? undefined, variables: (params.variables ?? undefined) as unknown }),
    }).then(async (res) => {
      const text = await res.text();
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return { errors: [{ message: `The server answered ${res.status} without a GraphQL response.` }] };
      }
    }) as FetcherResult;
  };
  const a11y = new MutationObserver(() => patchAccessibility(el));
  a11y.observe(el, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-selected'] });
  const root = createRoot(el);
  root.render(createElement(GraphiQL, {
    fetcher,
    schema: checkedInSchema(),
    defaultQuery,
    forcedTheme: 'light',
    // The key travels from the console's header: no headers to persist in the browser.
    shouldPersistHeaders: false,
    isHeadersEditorEnabled: false,
  }));
  return {
    unmount() {
      a11y.disconnect();
      root.unmount();
      void ws?.dispose();
    },
  };
}

function set(el: Element, name: string, value: string): void {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/**
 * What axe-core finds in GraphiQL 4 (critical/serious), fixed in its DOM as it renders: CodeMirror's
 * hidden textareas without a label, its scrolling query pane not reachable by keyboard, and tabs
 * that are <li role="tab"> around a button (nested interactive controls: the button becomes the tab).
 */
function patchAccessibility(el: HTMLElement): void {
  const labels: [string, string][] = [
    ['.graphiql-query-editor', 'Query editor'],
    ['.graphiql-editor-tool', 'Variables editor'],
    ['.graphiql-response', 'Response'],
  ];
  for (const [area, label] of labels) for (const t of el.querySelectorAll(`${area} .CodeMirror textarea`)) set(t, 'aria-label', label);
  for (const t of el.querySelectorAll('.CodeMirror textarea:not([aria-label])')) set(t, 'aria-label', 'Code editor');
  for (const s of el.querySelectorAll('.CodeMirror-scroll')) set(s, 'tabindex', '0');
  for (const li of el.querySelectorAll('li.graphiql-tab')) {
    const button = li.querySelector('button.graphiql-tab-button');
    if (!button) continue;
    set(li, 'role', 'presentation');
    set(button, 'role', 'tab');
    set(button, 'aria-selected', li.classList.contains('graphiql-tab-active') ? 'true' : 'false');
    if (li.hasAttribute('aria-selected')) li.removeAttribute('aria-selected');
  }
}
