/**
 * GraphiQL (from npm, bundled: no CDN) over the console's key, loaded only when the explorer
 * opens. Docs and autocomplete come from the checked-in schema (schema/schema.graphql), so they
 * work where the server turns introspection off (production). Queries and mutations go over HTTP,
 * subscriptions over graphql-ws, each with the key entered in the header.
 */
import 'graphiql/style.css';
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
export function checkedInSchema(): GraphQLSchema {
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
      root.unmount();
      void ws?.dispose();
    },
  };
}
